// Exact k nearest neighbours by cosine (rows must be unit vectors) above a similarity floor,
// block by block on CurateGemm; JS keeps each query's best k. The floor keeps the scan cheap for
// dedup (almost nothing passes 0.6); retrieval passes -Infinity to get a plain top k.
import type { CurateGemm } from "./gemm.js";

export interface Neighbours {
  readonly k: number;
  /** [queries, k] base row of each neighbour, best first; -1 where fewer than k passed. */
  readonly indices: Int32Array;
  /** [queries, k] cosine of each neighbour; -Infinity where none. */
  readonly sims: Float32Array;
}

export interface KnnOptions {
  readonly k: number;
  /** Only neighbours with cosine > minSim are kept (default: any). */
  readonly minSim?: number;
  /** queryIds[i]: the base row that query i is, excluded from its own neighbours. */
  readonly queryIds?: ArrayLike<number>;
  /** Base rows per block (default 4096). */
  readonly baseBlock?: number;
  readonly onProgress?: (doneQueries: number) => void;
}

/** Neighbours of `queries` [nq, D] among `base` [nb, D]. */
export async function exactNeighbours(
  gemm: CurateGemm,
  base: Float32Array,
  queries: Float32Array,
  opts: KnnOptions,
): Promise<Neighbours> {
  const dim = gemm.dim;
  const nb = base.length / dim;
  const nq = queries.length / dim;
  const { k } = opts;
  const minSim = opts.minSim ?? Number.NEGATIVE_INFINITY;
  const bBlock = Math.min(opts.baseBlock ?? 4096, Math.max(1, nb));
  const indices = new Int32Array(nq * k).fill(-1);
  const sims = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
  const qb = gemm.rowBlock;
  for (let q0 = 0; q0 < nq; q0 += qb) {
    const qRows = Math.min(qb, nq - q0);
    const q = queries.subarray(q0 * dim, (q0 + qRows) * dim);
    for (let b0 = 0; b0 < nb; b0 += bBlock) {
      const bRows = Math.min(bBlock, nb - b0);
      const tile = await gemm.similarities(
        q,
        qRows,
        base.subarray(b0 * dim, (b0 + bRows) * dim),
        bBlock,
      );
      for (let i = 0; i < qRows; i++) {
        const self = opts.queryIds ? opts.queryIds[q0 + i]! : -1;
        const row = i * bBlock;
        const at = (q0 + i) * k;
        for (let j = 0; j < bRows; j++) {
          const s = tile[row + j]!;
          if (s > minSim && s > sims[at + k - 1]! && b0 + j !== self)
            insert(sims, indices, at, k, s, b0 + j);
        }
      }
    }
    opts.onProgress?.(q0 + qRows);
  }
  return { k, indices, sims };
}

/** Inserts (s, j) into the sorted top-k at `at` (ties keep the earlier, lower index first). */
function insert(
  sims: Float32Array,
  idx: Int32Array,
  at: number,
  k: number,
  s: number,
  j: number,
): void {
  let p = k - 1;
  while (p > 0 && sims[at + p - 1]! < s) {
    sims[at + p] = sims[at + p - 1]!;
    idx[at + p] = idx[at + p - 1]!;
    p--;
  }
  sims[at + p] = s;
  idx[at + p] = j;
}

/** Scales each row of `x` [n, D] to unit length in place (zero rows stay zero); returns x. */
export function normalizeRows(x: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += x[r * dim + d]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) x[r * dim + d]! *= inv;
  }
  return x;
}
