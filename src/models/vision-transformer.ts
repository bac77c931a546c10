// DinoVisionTransformer. Port of dinov2/models/vision_transformer.py: tokens, blocks, norm,
// forward_features (also over a list of crop groups, packed), get_intermediate_layers.
import {
  add,
  cast,
  concat,
  expand,
  planRecompute,
  recomputeInBackward,
  reshape,
  type Segment,
  ShapeError,
  slice,
  type Tensor,
  traceSegment,
  transpose,
  where,
  withScope,
} from "../core/index.js";
import { Block, type BlockDrop, type BlockOptions } from "../nn/block.js";
import { normal, truncNormal, zeros } from "../nn/init.js";
import { LayerNorm } from "../nn/layers.js";
import { Module, Param } from "../nn/module.js";
import { PatchEmbed } from "../nn/patch-embed.js";
import { pack, type TokenGroup, unpack } from "../nn/tokens.js";
import { interpolatePosEmbed } from "./pos-embed.js";
import type { VitOptions } from "./presets.js";

/** The official forward_features outputs of one crop group. */
export interface Features {
  readonly clsToken: Tensor; // [B, D]
  readonly regTokens: Tensor; // [B, R, D]
  readonly patchTokens: Tensor; // [B, P, D]
  readonly prenorm: Tensor; // [B, N, D]
}

export interface CropGroup {
  /** Images [B, C, S_h, S_w]. */
  readonly images: Tensor;
  /** Optional bool [B, P]: masked patches take the mask token (iBOT). */
  readonly masks?: Tensor;
}

export interface IntermediateOptions {
  /** The last n blocks, or these 0-based block indices. */
  readonly n: number | readonly number[];
  readonly reshape?: boolean;
  readonly norm?: boolean;
}

export interface Intermediate {
  readonly patches: Tensor; // [B, P, D], or [B, D, h, w] with reshape
  readonly cls: Tensor; // [B, D]
}

/** The options of every block of a backbone. */
export function blockOptions(o: VitOptions): BlockOptions {
  return {
    dim: o.embedDim,
    numHeads: o.numHeads,
    mlpRatio: o.mlpRatio,
    ffnLayer: o.ffnLayer,
    layerscale: o.layerscale,
    qkvBias: o.qkvBias,
    projBias: o.projBias,
    ffnBias: o.ffnBias,
    eps: o.layerNormEps,
    ...(o.queryChunk ? { queryChunk: o.queryChunk } : {}),
  };
}

export class DinoVisionTransformer extends Module {
  readonly clsToken: Param;
  readonly posEmbed: Param;
  readonly registerTokens: Param | undefined;
  readonly maskToken: Param;
  readonly patchEmbed: PatchEmbed;
  readonly blocks: Block[];
  readonly norm: LayerNorm;

  constructor(readonly options: VitOptions) {
    super();
    const o = options;
    const grid = Math.floor(o.imgSize / o.patchSize);
    this.clsToken = new Param([1, 1, o.embedDim], normal(1e-6));
    this.posEmbed = new Param([1, grid * grid + 1, o.embedDim], truncNormal(0.02));
    this.registerTokens =
      o.numRegisterTokens > 0
        ? new Param([1, o.numRegisterTokens, o.embedDim], normal(1e-6))
        : undefined;
    this.maskToken = new Param([1, o.embedDim], zeros);
    this.patchEmbed = new PatchEmbed(o.patchSize, o.inChans, o.embedDim);
    this.blocks = Array.from({ length: o.depth }, () => new Block(blockOptions(o)));
    this.norm = new LayerNorm(o.embedDim, o.layerNormEps);
  }

  /** forward_features for one batch of images (optionally with iBOT masks). */
  forwardFeatures(images: Tensor, masks?: Tensor): Features {
    return this.forwardFeaturesList([{ images, ...(masks ? { masks } : {}) }])[0]!;
  }

  /**
   * forward_features_list: every crop group goes through the blocks packed as one token matrix.
   * `drop[i]` gives block i's efficient-stochastic-depth subsets (training only).
   */
  forwardFeaturesList(crops: readonly CropGroup[], drop: readonly BlockDrop[] = []): Features[] {
    const { x, groups } = this.tokens(crops);
    const budget = this.options.recomputeBudgetGiB;
    let h = x;
    const segments: Segment[] = [];
    this.blocks.forEach((blk, i) => {
      const run = (hin: Tensor) => blk.forward(hin, groups, drop[i] ?? {});
      if (budget === undefined) {
        h = withScope(`blocks.${i}`, () => run(h));
        return;
      }
      const seg = withScope(`blocks.${i}`, () => traceSegment([h], ([hin]) => [run(hin!)]));
      segments.push(seg);
      h = seg.outputs[0]!;
    });
    if (budget !== undefined) {
      for (const seg of planRecompute(segments, budget * 2 ** 30)) recomputeInBackward(seg);
    }
    const normed = withScope("norm", () => this.norm.forward(h));
    const r = this.options.numRegisterTokens;
    const pre = unpack(h, groups);
    return unpack(normed, groups).map((t, i) => ({
      clsToken: reshape(slice(t, 1, 0, 1), [groups[i]!.batch, this.options.embedDim]),
      regTokens: slice(t, 1, 1, 1 + r),
      patchTokens: slice(t, 1, 1 + r),
      prenorm: pre[i]!,
    }));
  }

  /** get_intermediate_layers(x, n, reshape, return_class_token=True, norm). */
  getIntermediateLayers(images: Tensor, opts: IntermediateOptions): Intermediate[] {
    const depth = this.blocks.length;
    const n = opts.n;
    const take = typeof n === "number" ? Array.from({ length: n }, (_, i) => depth - n + i) : n;
    const { x, groups } = this.tokens([{ images }]);
    const g = groups[0]!;
    const outs: Intermediate[] = [];
    let h = x;
    this.blocks.forEach((blk, i) => {
      h = withScope(`blocks.${i}`, () => blk.forward(h, groups));
      if (!take.includes(i)) return;
      const t = reshape(opts.norm === false ? h : withScope("norm", () => this.norm.forward(h)), [
        g.batch,
        g.tokens,
        this.options.embedDim,
      ]);
      let patches = slice(t, 1, 1 + this.options.numRegisterTokens);
      if (opts.reshape) {
        const [, , sh, sw] = images.shape as [number, number, number, number];
        const p = this.options.patchSize;
        patches = transpose(
          reshape(patches, [g.batch, sh / p, sw / p, this.options.embedDim]),
          [0, 3, 1, 2],
        );
      }
      outs.push({ patches, cls: reshape(slice(t, 1, 0, 1), [g.batch, this.options.embedDim]) });
    });
    return outs;
  }

  /** prepare_tokens_with_masks for each crop group, packed: [cls, registers, patches] + pos. */
  tokens(crops: readonly CropGroup[]): { x: Tensor; groups: TokenGroup[] } {
    const o = this.options;
    const groups: TokenGroup[] = [];
    const rows = crops.map(({ images, masks }) => {
      const [b, c, sh, sw] = images.shape as [number, number, number, number];
      if (c !== o.inChans) {
        throw new ShapeError(
          "DinoVisionTransformer",
          `expected ${o.inChans} image channels; got ${c} in [${images.shape}]`,
        );
      }
      let x = withScope("patch_embed", () => this.patchEmbed.forward(images)); // [B, P, D]
      if (masks) {
        const m = reshape(cast(masks, "bool"), [b, x.shape[1]!, 1]);
        x = where(m, this.maskToken.t, x);
      }
      x = concat([expand(this.clsToken.t, [b, 1, o.embedDim]), x], 1);
      const pos = interpolatePosEmbed(this.posEmbed.t, sh / o.patchSize, sw / o.patchSize, {
        antialias: o.interpolateAntialias,
        offset: o.interpolateOffset,
      });
      x = add(x, pos);
      if (this.registerTokens) {
        const reg = expand(this.registerTokens.t, [b, o.numRegisterTokens, o.embedDim]);
        x = concat([slice(x, 1, 0, 1), reg, slice(x, 1, 1)], 1);
      }
      groups.push({ batch: b, tokens: x.shape[1]! });
      return x;
    });
    return { x: pack(rows), groups };
  }
}
