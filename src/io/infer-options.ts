// Backbone options read off an official state dict's shapes, for checkpoints without a config.
import type { HostTensor } from "../core/host-tensor.js";
import { fmtShape } from "../core/shape.js";
import { CheckpointError } from "./checkpoint-error.js";
import {
  type CheckpointOptions,
  conventionalInterpolation,
  HEADS_BY_DIM,
  swigluHidden,
} from "./checkpoint-options.js";

/** Infers what the weights determine: width, depth, patch size, image size (from the pos-embed
 * grid), registers, FFN kind and ratio, biases. Heads are not in the weights: `numHeads` if
 * given, else the released variant's count for that width (384->6, 768->12, 1024->16,
 * 1536->24), else left out. Interpolation follows the released models' convention. */
export function inferOptionsFromStateDict(
  stateDict: ReadonlyMap<string, HostTensor>,
  opts: { readonly numHeads?: number; readonly source?: string } = {},
): CheckpointOptions {
  const source = opts.source ?? "<state dict>";
  const shapeOf = (key: string, rank: number): readonly number[] => {
    const t = stateDict.get(key);
    if (t === undefined) {
      throw new CheckpointError(source, "missing; cannot infer backbone options", {
        key,
        hint: "is this an official DINOv2 backbone state dict?",
      });
    }
    if (t.shape.length !== rank) {
      throw new CheckpointError(source, `got shape ${fmtShape(t.shape)}, expected rank ${rank}`, {
        key,
      });
    }
    return t.shape;
  };
  const [embedDim, inChans, patchH, patchW] = shapeOf("patch_embed.proj.weight", 4) as number[];
  if (patchH !== patchW) {
    throw new CheckpointError(source, `non-square patch ${patchH}x${patchW} is not supported`, {
      key: "patch_embed.proj.weight",
    });
  }
  const gridTokens = shapeOf("pos_embed", 3)[1]! - 1;
  const grid = Math.round(Math.sqrt(gridTokens));
  if (grid * grid !== gridTokens) {
    throw new CheckpointError(source, `${gridTokens} patch positions do not form a square grid`, {
      key: "pos_embed",
    });
  }
  const numRegisterTokens = stateDict.get("register_tokens")?.shape[1] ?? 0;
  const depth = countBlocks(stateDict, source);
  const isSwiglu = stateDict.has("blocks.0.mlp.w12.weight");
  const numHeads = opts.numHeads ?? HEADS_BY_DIM[embedDim!];
  const mlpRatio = inferMlpRatio(stateDict, embedDim!, isSwiglu);
  return {
    embedDim: embedDim!,
    depth,
    ...(numHeads === undefined ? {} : { numHeads }),
    patchSize: patchH!,
    imgSize: grid * patchH!,
    inChans: inChans!,
    ...(mlpRatio === undefined ? {} : { mlpRatio }),
    ffnLayer: isSwiglu ? "swiglu" : "mlp",
    numRegisterTokens,
    layerNormEps: 1e-6,
    ...conventionalInterpolation("official", numRegisterTokens),
    layerscale: stateDict.has("blocks.0.ls1.gamma") ? 1 : null, // the hub's placeholder value
    qkvBias: stateDict.has("blocks.0.attn.qkv.bias"),
    projBias: stateDict.has("blocks.0.attn.proj.bias"),
    ffnBias: stateDict.has(isSwiglu ? "blocks.0.mlp.w12.bias" : "blocks.0.mlp.fc1.bias"),
  };
}

/** Blocks are `blocks.N.*` with N = 0..depth-1, none missing. */
function countBlocks(stateDict: ReadonlyMap<string, HostTensor>, source: string): number {
  const seen = new Set<number>();
  for (const key of stateDict.keys()) {
    const m = /^blocks\.(\d+)\./.exec(key);
    if (m) seen.add(Number(m[1]));
  }
  const depth = seen.size === 0 ? 0 : Math.max(...seen) + 1;
  for (let i = 0; i < depth; i++) {
    if (!seen.has(i)) {
      throw new CheckpointError(source, `missing, yet blocks up to ${depth - 1} exist`, {
        key: `blocks.${i}`,
      });
    }
  }
  return depth;
}

/** MLP: fc1 rows / D. SwiGLU: the rounding to multiples of 8 loses the ratio, so take the first
 * of 4 (every released model), then 0.5, 1, 1.5, ... 16 that reproduces w3's input width. */
function inferMlpRatio(
  stateDict: ReadonlyMap<string, HostTensor>,
  embedDim: number,
  isSwiglu: boolean,
): number | undefined {
  if (!isSwiglu) {
    const rows = stateDict.get("blocks.0.mlp.fc1.weight")?.shape[0];
    return rows === undefined ? undefined : rows / embedDim;
  }
  const hidden = stateDict.get("blocks.0.mlp.w3.weight")?.shape[1];
  if (hidden === undefined) return undefined;
  const candidates = [4, ...Array.from({ length: 32 }, (_, i) => (i + 1) / 2)];
  return candidates.find((r) => swigluHidden(embedDim, r) === hidden);
}
