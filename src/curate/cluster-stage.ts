// `curate cluster` and `curate sample`: hierarchical k-means on the embeddings of the images
// dedup kept (L2-normalised), written as one label column per level plus each level's centroids;
// then a balanced sample across the hierarchy (Vo et al. 2024) as the `sampled` table.
import { DEDUP_KEPT } from "./dedup-stage.js";
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";
import {
  balancedSample,
  type Hierarchy,
  hierarchicalKMeans,
  type LevelOptions,
} from "./hierarchical.js";
import { normalizeRows } from "./knn.js";
import type { Pool } from "./pool.js";
import { type CurateStore, column, type Row, vectors } from "./store.js";

export const CLUSTERS = "clusters";
export const SAMPLED = "sampled";

/** Ids (ascending) of the images dedup kept; fails naming the table when dedup has not run. */
export async function keptIds(store: CurateStore): Promise<Int32Array> {
  if (!(await store.has(DEDUP_KEPT))) {
    throw new CurateError(
      `table "${DEDUP_KEPT}"`,
      `not found in ${store.uri}`,
      "run `dinov2 curate dedup` first",
    );
  }
  return Int32Array.from(column<number>(await store.read(DEDUP_KEPT, ["id"]), "id")).sort();
}

/** Unit-length embeddings of the pool rows `ids`. */
export function unitEmbeddings(pool: Pool, ids: ArrayLike<number>): Float32Array {
  const dim = pool.meta.embeddingDim;
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++)
    out.set(pool.embedding.subarray(ids[i]! * dim, (ids[i]! + 1) * dim), i * dim);
  return normalizeRows(out, dim);
}

export async function clusterStage(
  store: CurateStore,
  pool: Pool,
  gemm: CurateGemm,
  ks: readonly number[],
  opts: LevelOptions,
  onLevel?: (level: number) => void,
): Promise<Hierarchy> {
  const ids = await keptIds(store);
  if (ks[0]! > ids.length) {
    throw new CurateError(
      "--levels",
      `the first level asks for ${ks[0]} clusters but dedup kept ${ids.length} images`,
    );
  }
  const h = await hierarchicalKMeans(gemm, unitEmbeddings(pool, ids), ks, opts, onLevel);
  // Level t label of every kept image: follow the parents up.
  const rows: Row[] = [];
  for (let i = 0; i < ids.length; i++) {
    const row: Record<string, number | string> = { id: ids[i]!, path: pool.paths[ids[i]!]! };
    let item = i;
    for (let t = 0; t < ks.length; t++) {
      item = h.parents[t]![item]!;
      row[`level${t}`] = item;
    }
    rows.push(row);
  }
  const columns = Object.fromEntries([
    ["id", "int32"],
    ["path", "utf8"],
    ...ks.map((_, t) => [`level${t}`, "int32"]),
  ]);
  await store.write(CLUSTERS, columns, rows, {
    ks: ks.join(","),
    spherical: String(opts.spherical ?? false),
  });
  for (const [t, c] of h.centroids.entries()) {
    const dim = pool.meta.embeddingDim;
    await store.write(
      `centroids_level${t}`,
      { cluster: "int32", centroid: { vector: dim } },
      Array.from({ length: ks[t]! }, (_, j) => ({
        cluster: j,
        centroid: c.slice(j * dim, (j + 1) * dim),
      })),
    );
  }
  return h;
}

/** The hierarchy as `cluster` wrote it (labels per level of the kept images, in id order). */
export async function readClusters(
  store: CurateStore,
): Promise<{ ids: Int32Array; ks: number[]; labels: Int32Array[] }> {
  if (!(await store.has(CLUSTERS))) {
    throw new CurateError(
      `table "${CLUSTERS}"`,
      `not found in ${store.uri}`,
      "run `dinov2 curate cluster` first",
    );
  }
  const ks = (await store.metadata(CLUSTERS)).get("ks")!.split(",").map(Number);
  const t = await store.read(CLUSTERS, ["id", ...ks.map((_, l) => `level${l}`)]);
  const id = column<number>(t, "id");
  const order = Int32Array.from(id.keys()).sort((a, b) => id[a]! - id[b]!);
  const labels = ks.map((_, l) => {
    const c = column<number>(t, `level${l}`);
    return Int32Array.from(order, (i) => c[i]!);
  });
  return { ids: Int32Array.from(order, (i) => id[i]!), ks, labels };
}

export async function readCentroids(store: CurateStore, level: number): Promise<Float32Array> {
  const t = await store.read(`centroids_level${level}`, ["cluster", "centroid"]);
  const c = column<number>(t, "cluster");
  const v = vectors(t, "centroid");
  const out = new Float32Array(v.data.length);
  c.forEach((j, r) => {
    out.set(v.data.subarray(r * v.dim, (r + 1) * v.dim), j * v.dim);
  });
  return out;
}

/** `curate sample`: `budget` images balanced over the stored hierarchy, as the `sampled` table. */
export async function sampleStage(
  store: CurateStore,
  pool: Pool,
  budget: number,
  seed: number,
): Promise<number> {
  const { ids, ks, labels } = await readClusters(store);
  // Rebuild parents: level 0 items are the kept images; level t items are level-(t-1) clusters.
  const parents: Int32Array[] = [labels[0]!];
  for (let t = 1; t < ks.length; t++) {
    const p = new Int32Array(ks[t - 1]!);
    for (let i = 0; i < ids.length; i++) p[labels[t - 1]![i]!] = labels[t]![i]!;
    parents.push(p);
  }
  const picked = balancedSample({ ks, parents, centroids: [] }, budget, seed);
  await store.write(
    SAMPLED,
    { id: "int32", path: "utf8" },
    Array.from(picked, (i) => ({ id: ids[i]!, path: pool.paths[ids[i]!]! })),
  );
  return picked.length;
}
