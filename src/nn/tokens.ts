// Packed token layout: the rows of every crop group stacked into one [T, D] matrix, so linear
// layers run as one GEMM across crop sizes (the paper's sequence packing); attention is per group.
import { concat, reshape, split, type Tensor } from "../core/index.js";

/** A group of B sequences of N tokens each (e.g. all 224² global crops). */
export interface TokenGroup {
  readonly batch: number;
  readonly tokens: number;
}

export function groupRows(g: TokenGroup): number {
  return g.batch * g.tokens;
}

/** [T, C] -> one [B_i, N_i, C] tensor per group. */
export function unpack(x: Tensor, groups: readonly TokenGroup[]): Tensor[] {
  const c = x.shape[1]!;
  return split(x, 0, groups.map(groupRows)).map((part, i) =>
    reshape(part, [groups[i]!.batch, groups[i]!.tokens, c]),
  );
}

/** One [B_i, N_i, C] tensor per group -> [T, C]. */
export function pack(xs: readonly Tensor[]): Tensor {
  return concat(
    xs.map((x) => reshape(x, [-1, x.shape[x.rank - 1]!])),
    0,
  );
}
