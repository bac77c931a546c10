// Multi-head self-attention over packed token groups. Port of dinov2/layers/attention.py
// (MemEffAttention: one qkv projection for all groups, attention within each group).
import { concat, matmul, mT, mul, reshape, slice, softmax, type Tensor, transpose, withScope } from "../core/index.js";
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
    const dh = this.dim / h;
    // [B*N, 3D] -> [B, N, 3, H, Dh] -> [3, B, H, N, Dh]
    const t = transpose(reshape(rows, [g.batch, g.tokens, 3, h, dh]), [2, 0, 3, 1, 4]);
    const pick = (i: number) => reshape(slice(t, 0, i, i + 1), [g.batch, h, g.tokens, dh]);
    const q = mul(pick(0), this.scale);
    const k = pick(1);
    const v = pick(2);
    const chunk = this.opts.queryChunk ?? g.tokens;
    const parts: Tensor[] = [];
    for (let s = 0; s < g.tokens; s += chunk) {
      const qc = chunk >= g.tokens ? q : slice(q, 2, s, Math.min(g.tokens, s + chunk));
      const attn = softmax(matmul(qc, mT(k)), -1); // [B, H, n, N]
      parts.push(matmul(attn, v)); // [B, H, n, Dh]
    }
    const o = concat(parts, 2); // [B, H, N, Dh]
    return reshape(transpose(o, [0, 2, 1, 3]), [g.batch * g.tokens, this.dim]); // -> [B*N, D]
  }
}
