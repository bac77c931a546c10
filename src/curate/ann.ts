// Approximate nearest neighbours through LanceDB's own index, for pools too large to scan: the
// unit vectors go to an `ann_<name>` table, LanceDB builds IVF-PQ (or HNSW-SQ) on it, and each
// query is one index search (with a refine step that re-ranks candidates by exact cosine). Below
// `threshold` rows an exact scan on the graph core is faster and exact, so `auto` keeps it.
// `annRecall` measures what the index loses: recall@k against exact search on a sample. A table
// records the fingerprint of the vectors it indexes, so a finished index over the same vectors
// is reused (by a rerun, or by every `retrieve --shard` worker after `retrieve --build-index`).
import { createHash } from "node:crypto";
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";
import { exactNeighbours } from "./knn.js";
import type { AnnKind, CurateStore } from "./store.js";

export const ANN_MODES = ["auto", "exact", "ivf-pq", "hnsw-sq"] as const;
export type AnnMode = (typeof ANN_MODES)[number];

/** Rows from which `auto` uses an index (IVF-PQ). */
export const ANN_THRESHOLD = 100_000;

export interface AnnTuning {
  readonly nprobes: number;
  readonly refineFactor: number;
  readonly ef: number;
}

export const DEFAULT_TUNING: AnnTuning = { nprobes: 20, refineFactor: 10, ef: 64 };

export type Search = (
  base: Float32Array,
  queries: Float32Array,
  k: number,
) => Promise<{ indices: Int32Array; sims: Float32Array }>;

export function resolveAnn(
  mode: AnnMode,
  rows: number,
  threshold = ANN_THRESHOLD,
): AnnKind | "exact" {
  if (mode === "auto") return rows >= threshold ? "ivf-pq" : "exact";
  return mode;
}

/** Metadata key of an `ann_<name>` table: the index kind and a digest of the indexed vectors. */
const FINGERPRINT = "dinov2_ts.ann";

/** Vectors to index with `kind`, with the digest that names them (hashed once, here). */
export interface AnnVectors {
  readonly kind: AnnKind;
  /** [n, dim], unit rows. */
  readonly base: Float32Array;
  readonly dim: number;
  readonly fingerprint: string;
}

export function annVectors(kind: AnnKind, base: Float32Array, dim: number): AnnVectors {
  const h = createHash("sha256");
  h.update(new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
  const fingerprint = `${kind}:${dim}:${base.length / dim}:${h.digest("hex").slice(0, 32)}`;
  return { kind, base, dim, fingerprint };
}

/** Whether `ann_<name>` holds a finished index of these vectors' kind over exactly them. */
export async function hasIndex(store: CurateStore, name: string, v: AnnVectors): Promise<boolean> {
  const table = `ann_${name}`;
  if (!(await store.has(table))) return false;
  if ((await store.metadata(table)).get(FINGERPRINT) !== v.fingerprint) return false;
  return store.hasVectorIndex(table, "vector");
}

/**
 * A search function over `v.base` through a LanceDB index of `v.kind` in table `ann_<name>`,
 * built unless that table already indexes these vectors (`built` says which).
 */
export async function indexedSearch(
  store: CurateStore,
  name: string,
  v: AnnVectors,
  tuning: AnnTuning = DEFAULT_TUNING,
): Promise<{ search: Search; built: boolean }> {
  const { kind, base, dim } = v;
  const n = base.length / dim;
  if (kind === "ivf-pq" && n < 256) {
    throw new CurateError(
      "--ann ivf-pq",
      `LanceDB trains PQ on at least 256 vectors; there are ${n}`,
      "use --ann exact (or auto) for pools this small",
    );
  }
  const table = `ann_${name}`;
  const built = !(await hasIndex(store, name, v));
  if (built) {
    const rows = Array.from({ length: n }, (_, i) => ({
      row: i,
      vector: base.subarray(i * dim, (i + 1) * dim),
    }));
    const meta = { [FINGERPRINT]: v.fingerprint };
    await store.write(table, { row: "int32", vector: { vector: dim } }, rows, meta);
    await store.createVectorIndex(table, "vector", kind, n, dim);
  }
  const t = await store.open(table);
  const search: Search = async (_base, queries, k) => {
    const nq = queries.length / dim;
    const indices = new Int32Array(nq * k).fill(-1);
    const sims = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < nq; i++) {
      const r = await store.searchVectors(
        t,
        "vector",
        "row",
        queries.subarray(i * dim, (i + 1) * dim),
        k,
        tuning,
      );
      r.keys.forEach((key, j) => {
        indices[i * k + j] = key;
        sims[i * k + j] = r.sims[j]!;
      });
    }
    return { indices, sims };
  };
  return { search, built };
}

/** Mean over `queries` of |ANN top-k ∩ exact top-k| / k. */
export async function annRecall(
  gemm: CurateGemm,
  search: Search,
  base: Float32Array,
  queries: Float32Array,
  k: number,
): Promise<number> {
  const exact = await exactNeighbours(gemm, base, queries, { k });
  const approx = await search(base, queries, k);
  const nq = queries.length / gemm.dim;
  let hits = 0;
  for (let i = 0; i < nq; i++) {
    const want = new Set(exact.indices.subarray(i * k, (i + 1) * k));
    for (let j = 0; j < k; j++) if (want.has(approx.indices[i * k + j]!)) hits++;
  }
  return hits / (nq * k);
}
