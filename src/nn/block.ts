// Pre-norm transformer block with LayerScale and efficient stochastic depth.
// Port of dinov2/layers/block.py (NestedTensorBlock, drop_add_residual_stochastic_depth_list).
import { add, gather, indexAdd, mul, type Tensor, withScope } from "../core/index.js";
import { Attention } from "./attention.js";
import { Mlp, SwiGluFfn } from "./ffn.js";
import { LayerNorm, LayerScale } from "./layers.js";
import { Module } from "./module.js";
import type { TokenGroup } from "./tokens.js";

export interface BlockOptions {
  readonly dim: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly ffnLayer: "mlp" | "swiglu";
  /** LayerScale init value; null disables LayerScale (as init_values=None). */
  readonly layerscale: number | null;
  readonly qkvBias: boolean;
  readonly projBias: boolean;
  readonly ffnBias: boolean;
  readonly eps: number;
  readonly queryChunk?: number;
}

/**
 * Efficient stochastic depth for one residual branch: it runs only on the kept samples' rows,
 * and is added back scaled by B / subset (official `index_add(..., alpha=b/subset)`).
 */
export interface ResidualSubset {
  /** Packed-row indices of the kept samples, int64 [T'] (drawn on the host, fed per step). */
  readonly rows: Tensor;
  /** The kept rows as groups (subset sizes per crop group). */
  readonly groups: readonly TokenGroup[];
  /** Per-row scale B_i / subset_i, [T', 1]. */
  readonly scale: Tensor;
}

/** Plain stochastic depth (the reference formulation): the branch runs on every row and is
 * multiplied by a per-row factor, 0 for dropped samples and 1 / keep probability for kept ones. */
export interface ResidualMask {
  /** [T, 1], fed per step. */
  readonly rowScale: Tensor;
}

export interface BlockDrop {
  readonly attn?: ResidualSubset | ResidualMask;
  readonly ffn?: ResidualSubset | ResidualMask;
}

export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly ls1: LayerScale | undefined;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp | SwiGluFfn;
  readonly ls2: LayerScale | undefined;

  constructor(o: BlockOptions) {
    super();
    this.norm1 = new LayerNorm(o.dim, o.eps);
    this.attn = new Attention(o.dim, o.numHeads, {
      qkvBias: o.qkvBias,
      projBias: o.projBias,
      ...(o.queryChunk ? { queryChunk: o.queryChunk } : {}),
    });
    this.ls1 = o.layerscale === null ? undefined : new LayerScale(o.dim, o.layerscale);
    this.norm2 = new LayerNorm(o.dim, o.eps);
    const hidden = Math.floor(o.dim * o.mlpRatio);
    this.mlp =
      o.ffnLayer === "swiglu"
        ? new SwiGluFfn(o.dim, hidden, o.ffnBias)
        : new Mlp(o.dim, hidden, o.ffnBias);
    this.ls2 = o.layerscale === null ? undefined : new LayerScale(o.dim, o.layerscale);
  }

  /** x: packed [T, D] rows of `groups`. */
  forward(x: Tensor, groups: readonly TokenGroup[], drop: BlockDrop = {}): Tensor {
    const attnBranch = (h: Tensor, g: readonly TokenGroup[]) =>
      withScope("attn", () =>
        scaled(
          this.ls1,
          this.attn.forward(
            withScope("norm1", () => this.norm1.forward(h)),
            g,
          ),
        ),
      );
    const ffnBranch = (h: Tensor) =>
      withScope("mlp", () =>
        scaled(this.ls2, this.mlp.forward(withScope("norm2", () => this.norm2.forward(h)))),
      );
    const x1 = residual(x, groups, drop.attn, attnBranch);
    return residual(x1, groups, drop.ffn, (h) => ffnBranch(h));
  }
}

function scaled(ls: LayerScale | undefined, y: Tensor): Tensor {
  return ls ? ls.forward(y) : y;
}

function residual(
  x: Tensor,
  groups: readonly TokenGroup[],
  subset: ResidualSubset | ResidualMask | undefined,
  branch: (h: Tensor, g: readonly TokenGroup[]) => Tensor,
): Tensor {
  if (!subset) return add(x, branch(x, groups));
  if ("rowScale" in subset) return add(x, mul(branch(x, groups), subset.rowScale));
  const r = branch(gather(x, subset.rows, 0), subset.groups); // [T', D]
  return indexAdd(x, 0, subset.rows, mul(r, subset.scale));
}
