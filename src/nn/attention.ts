// Multi-head self-attention over packed token groups. Port of dinov2/layers/attention.py
// (MemEffAttention: one qkv projection for all groups, attention within each group).
import {
  concat,
  matmul,
  mul,
  reshape,
  slice,
  softmax,
  type Tensor,
  transpose,
  withScope,
} from "../core/index.js";
import { Linear } from "./layers.js";
import { Module } from "./module.js";
import { groupRows, type TokenGroup } from "./tokens.js";

export interface AttentionOptions {
  readonly qkvBias?: boolean;
  readonly projBias?: boolean;
  /** Queries per chunk for long sequences: bounds the [H, chunk, N] score matrix in memory. */
  readonly queryChunk?: number;
}

export class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  private readonly scale: number;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    private readonly opts: AttentionOptions = {},
  ) {
    super();
    this.qkv = new Linear(dim, dim * 3, { bias: opts.qkvBias ?? true });
    this.proj = new Linear(dim, dim, { bias: opts.projBias ?? true });
    this.scale = (dim / numHeads) ** -0.5;
  }

  /** x: [T, D] packed rows of `groups` -> [T, D]. */
  forward(x: Tensor, groups: readonly TokenGroup[]): Tensor {
    const qkv = withScope("qkv", () => this.qkv.forward(x)); // [T, 3D]
    let offset = 0;
    const outs = groups.map((g) => {
      const rows = slice(qkv, 0, offset, offset + groupRows(g));
      offset += groupRows(g);
      return this.attend(rows, g);
    });
    return withScope("proj", () => this.proj.forward(concat(outs, 0)));
  }

  private attend(rows: Tensor, g: TokenGroup): Tensor {
    const h = this.numHeads;
    const d = this.dim;
    const dh = d / h;
    // Column slices of [B*N, 3D] then 4-D transposes with contiguous Dh rows: ORT runs these far
    // faster than one 5-D [B, N, 3, H, Dh] transpose followed by slices.
    const heads = (i: number, perm: readonly number[]) =>
      transpose(reshape(slice(rows, 1, i * d, (i + 1) * d), [g.batch, g.tokens, h, dh]), perm);
    const q = mul(heads(0, [0, 2, 1, 3]), this.scale); // [B, H, N, Dh]
    const kT = heads(1, [0, 2, 3, 1]); // [B, H, Dh, N]
    const v = heads(2, [0, 2, 1, 3]); // [B, H, N, Dh]
    const chunk = this.opts.queryChunk ?? g.tokens;
    const parts: Tensor[] = [];
    for (let s = 0; s < g.tokens; s += chunk) {
      const qc = chunk >= g.tokens ? q : slice(q, 2, s, Math.min(g.tokens, s + chunk));
      const attn = softmax(matmul(qc, kT), -1); // [B, H, n, N]
      parts.push(matmul(attn, v)); // [B, H, n, Dh]
    }
    const o = concat(parts, 2); // [B, H, N, Dh]
    return reshape(transpose(o, [0, 2, 1, 3]), [g.batch * g.tokens, this.dim]); // -> [B*N, D]
  }
}
