// `curate cluster` and `curate sample`: hierarchical k-means on the embeddings of the images
// dedup kept (L2-normalised), written as one label column per level plus each level's centroids;
// then a balanced sample across the hierarchy (Vo et al. 2024) as the `sampled` table. Clustering
// is trained once (fit) and the assignment of the kept images is sharded by row.
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
import { ownsRow, type Shard, SINGLE, shardTag } from "./shard.js";
import { type CurateStore, column, type Row, vectors } from "./store.js";

export const CLUSTERS = "clusters";
export const SAMPLED = "sampled";
/** The trained hierarchy: upper levels' parents; metadata ks and spherical. */
export const CLUSTER_FIT = "cluster_fit";

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

/**
 * `cluster --fit`: trains the hierarchy once (level 0 on a subsample of the kept embeddings, as
 * FAISS; higher levels on the centroids below) and writes each level's centroids and the upper
 * levels' parents. The kept images are assigned afterwards, by row shards (`assignClusterPart`),
 * and `mergeClusters` writes the `clusters` table: one process or N give the same table.
 */
export async function fitClusters(
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
  // A new fit makes every earlier assignment part stale.
  for (const name of await store.names())
    if (name.startsWith("cluster_part_")) await store.drop(name);
  const h = await hierarchicalKMeans(gemm, unitEmbeddings(pool, ids), ks, opts, onLevel, false);
  const dim = pool.meta.embeddingDim;
  for (const [t, c] of h.centroids.entries()) {
    await store.write(
      `centroids_level${t}`,
      { cluster: "int32", centroid: { vector: dim } },
      Array.from({ length: ks[t]! }, (_, j) => ({
        cluster: j,
        centroid: c.slice(j * dim, (j + 1) * dim),
      })),
    );
  }
  const parents: Row[] = [];
  for (let t = 1; t < ks.length; t++)
    h.parents[t]!.forEach((p, j) => {
      parents.push({ level: t, item: j, parent: p });
    });
  await store.write(CLUSTER_FIT, { level: "int32", item: "int32", parent: "int32" }, parents, {
    ks: ks.join(","),
    spherical: String(opts.spherical ?? false),
    kept: String(ids.length),
  });
  return h;
}

/** The whole stage in one process: fit, assign every kept image, merge. */
export async function clusterStage(
  store: CurateStore,
  pool: Pool,
  gemm: CurateGemm,
  ks: readonly number[],
  opts: LevelOptions,
  onLevel?: (level: number) => void,
): Promise<void> {
  await fitClusters(store, pool, gemm, ks, opts, onLevel);
  await assignClusterPart(store, pool, gemm, SINGLE);
  await mergeClusters(store, pool, 1);
}

async function readFit(store: CurateStore): Promise<{ ks: number[]; spherical: boolean }> {
  if (!(await store.has(CLUSTER_FIT))) {
    throw new CurateError(
      `table "${CLUSTER_FIT}"`,
      `not found in ${store.uri}`,
      "run `dinov2 curate cluster --fit` once before the `--shard I/N` workers",
    );
  }
  const md = await store.metadata(CLUSTER_FIT);
  return { ks: md.get("ks")!.split(",").map(Number), spherical: md.get("spherical") === "true" };
}

/** Level-0 labels of this shard's kept images (row r of the kept ids, r mod N = I). */
export async function assignClusterPart(
  store: CurateStore,
  pool: Pool,
  gemm: CurateGemm,
  shard: Shard,
): Promise<number> {
  const { ks, spherical } = await readFit(store);
  const ids = (await keptIds(store)).filter((_, r) => ownsRow(shard, r));
  const centroids = await readCentroids(store, 0);
  const { labels } = await gemm.assign(
    unitEmbeddings(pool, ids),
    ids.length,
    centroids,
    ks[0]!,
    spherical,
  );
  await store.write(
    `cluster_part_${shardTag(shard)}`,
    { id: "int32", level0: "int32" },
    Array.from(ids, (id, i) => ({ id, level0: labels[i]! })),
  );
  return ids.length;
}

/** Joins the N assignment parts into `clusters` (one label column per level). */
export async function mergeClusters(
  store: CurateStore,
  pool: Pool,
  shards: number,
): Promise<number> {
  const { ks, spherical } = await readFit(store);
  const up = await store.read(CLUSTER_FIT, ["level", "item", "parent"]);
  // parents[t][j]: the level-t cluster of level-(t-1) cluster j.
  const parents = ks.map((_, t) => new Int32Array(t === 0 ? 0 : ks[t - 1]!));
  const [lv, item, parent] = [
    column<number>(up, "level"),
    column<number>(up, "item"),
    column<number>(up, "parent"),
  ];
  lv.forEach((t, r) => {
    parents[t]![item[r]!] = parent[r]!;
  });
  const label0 = new Map<number, number>();
  const missing: number[] = [];
  for (let i = 0; i < shards; i++) {
    const name = `cluster_part_${i}of${shards}`;
    if (!(await store.has(name))) {
      missing.push(i);
      continue;
    }
    const t = await store.read(name, ["id", "level0"]);
    const l = column<number>(t, "level0");
    for (const [r, id] of column<number>(t, "id").entries()) label0.set(id, l[r]!);
  }
  const ids = await keptIds(store);
  if (missing.length > 0 || label0.size !== ids.length) {
    throw new CurateError(
      "cluster --merge",
      missing.length > 0
        ? `shards ${missing.map((i) => `${i}/${shards}`).join(", ")} have not finished`
        : `the parts hold ${label0.size} images; dedup kept ${ids.length} (parts of an older run?)`,
      "run `dinov2 curate cluster --shard I/N` for every I after `cluster --fit`",
    );
  }
  const rows: Row[] = Array.from(ids, (id) => {
    const row: Record<string, number | string> = { id, path: pool.paths[id]! };
    let c = label0.get(id)!;
    row.level0 = c;
    for (let t = 1; t < ks.length; t++) {
      c = parents[t]![c]!;
      row[`level${t}`] = c;
    }
    return row;
  });
  const columns = Object.fromEntries([
    ["id", "int32"],
    ["path", "utf8"],
    ...ks.map((_, t) => [`level${t}`, "int32"]),
  ]);
  await store.write(CLUSTERS, columns, rows, { ks: ks.join(","), spherical: String(spherical) });
  return rows.length;
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
