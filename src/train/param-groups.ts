// Per-parameter optimizer multipliers: layer-wise lr decay, the patch-embed lr multiplier, no weight
// decay on biases/norms/LayerScale, and the last-layer flag. Port of dinov2/utils/param_groups.py.
import type { Derived } from "../config/resolve.js";
import type { DeepReadonly, TrainConfig } from "../config/schema.js";

export interface ParamGroupOptions {
  /** Number of backbone blocks (the official `n_blocks`, = depth). */
  readonly numLayers: number;
  /** optim.layerwise_decay: block i (0-based) gets rate ** (numLayers - i). */
  readonly layerwiseDecay: number;
  /** optim.patch_embed_lr_mult, multiplied into patch_embed.* on top of the decay. */
  readonly patchEmbedLrMult: number;
  /** Names use FSDP chunk indices, `backbone.blocks.<chunk>.<block>.*` (block_chunks > 0). */
  readonly chunkedBlocks?: boolean;
}

/** What AdamW needs per parameter; lr = (isLastLayer ? lastLayerLr : lr) * lrMultiplier. */
export interface ParamMultipliers {
  readonly lrMultiplier: number;
  readonly wdMultiplier: number;
  readonly isLastLayer: boolean;
}

/**
 * The official multipliers of one student parameter, named as in the student
 * (`backbone.blocks.0.attn.qkv.weight`, `dino_head.last_layer.weight_g`, `ibot_head.mlp.0.bias`).
 * The official code runs per submodule: `backbone.*` is a ViT with numLayers blocks; every other
 * submodule (the heads) has no blocks, so its layer-decay multiplier is 1.
 * @example paramMultipliers("backbone.pos_embed", { numLayers: 2, layerwiseDecay: 0.9, patchEmbedLrMult: 0.2 })
 * // { lrMultiplier: 0.729, wdMultiplier: 1, isLastLayer: false }
 */
export function paramMultipliers(studentName: string, o: ParamGroupOptions): ParamMultipliers {
  const dot = studentName.indexOf(".");
  const submodule = dot < 0 ? "" : studentName.slice(0, dot);
  const name = (dot < 0 ? studentName : studentName.slice(dot + 1)).replaceAll(
    "_fsdp_wrapped_module.",
    "",
  );
  const isBackbone = submodule === "backbone";
  const numLayers = isBackbone ? o.numLayers : 0;
  const chunked = o.chunkedBlocks ?? false;
  let lrMultiplier = vitLrDecayRate(name, studentName, o.layerwiseDecay, numLayers, chunked);
  if (name.includes("patch_embed")) lrMultiplier *= o.patchEmbedLrMult;
  const noDecay = name.endsWith(".bias") || name.includes("norm") || name.includes("gamma");
  return {
    lrMultiplier,
    wdMultiplier: noDecay ? 0.0 : 1.0,
    isLastLayer: name.includes("last_layer"),
  };
}

/** The multiplier options a resolved config implies. */
export function paramGroupOptions(
  cfg: DeepReadonly<TrainConfig>,
  derived: Derived,
): ParamGroupOptions {
  return {
    numLayers: derived.backbone.depth,
    layerwiseDecay: cfg.optim.layerwise_decay,
    patchEmbedLrMult: cfg.optim.patch_embed_lr_mult,
    chunkedBlocks: cfg.student.block_chunks > 0,
  };
}

// get_vit_lr_decay_rate, branch for branch; `name` is relative to its submodule, whose
// numLayers > 0 (force_is_backbone) only for the backbone.
function vitLrDecayRate(
  name: string,
  studentName: string,
  rate: number,
  numLayers: number,
  chunkedBlocks: boolean,
): number {
  const forceIsBackbone = numLayers > 0;
  const index = (from: string, at: number) =>
    blockIndex(name.slice(name.indexOf(from)), at, studentName);
  let layerId = numLayers + 1;
  if (name.startsWith("backbone") || forceIsBackbone) {
    if (EMBEDDINGS.some((e) => name.includes(`.${e}`))) {
      layerId = 0;
    } else if (forceIsBackbone && EMBEDDINGS.some((e) => name.includes(e))) {
      layerId = 0;
    } else if (name.includes(".blocks.") && !name.includes(".residual.")) {
      layerId = index(".blocks.", 2) + 1;
    } else if (chunkedBlocks && name.includes("blocks.") && !name.includes("residual.")) {
      layerId = index("blocks.", 2) + 1;
    } else if (name.includes("blocks.") && !name.includes("residual.")) {
      layerId = index("blocks.", 1) + 1;
    }
  }
  return rate ** (numLayers + 1 - layerId);
}

const EMBEDDINGS = [
  "pos_embed",
  "patch_embed",
  "mask_token",
  "cls_token",
  "register_tokens",
] as const;

// Python int(tail.split(".")[at]); a non-integer there is a name the official code rejects too.
function blockIndex(tail: string, at: number, name: string): number {
  const part = tail.split(".")[at] ?? "";
  if (!/^\d+$/.test(part)) {
    throw new RangeError(
      `paramMultipliers: no block index in parameter name; got "${name}", expected blocks.<i>.* (or blocks.<chunk>.<i>.* with chunkedBlocks)`,
    );
  }
  return Number(part);
}
