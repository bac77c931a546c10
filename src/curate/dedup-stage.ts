// `curate dedup`: self-deduplication as in the paper (k = 64 nearest neighbours on a copy
// descriptor, edges with cosine > threshold, connected components by union-find, one keeper per
// component) and relative deduplication against evaluation sets (pool images whose descriptor is
// within the relative threshold of any --against image are removed, with their whole component).
// Sharded by query row; the merge joins every shard's edges, so N shards give the single run's
// result exactly. Keeper: the component's largest image (width × height), then the lowest id.
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";
import { exactNeighbours, normalizeRows } from "./knn.js";
import type { Pool } from "./pool.js";
import { ownsRow, type Shard, shardTag } from "./shard.js";
import { type CurateStore, column, type Row } from "./store.js";
import { UnionFind } from "./union-find.js";

export const DEDUP_KEPT = "dedup_kept";
export const DEDUP_REMOVED = "dedup_removed";

export interface DedupParams {
  readonly descriptor: string;
  readonly k: number;
  readonly threshold: number;
  readonly relativeThreshold: number;
  /** Descriptors of the --against images [n, D] (unit rows), and their paths. */
  readonly against?: { readonly vectors: Float32Array; readonly paths: readonly string[] };
}

/**
 * The descriptor rows of the pool, unit length: "phash", "embedding", or the id of the descriptor
 * model (onnx-descriptor.ts) that wrote the pool's `descriptor` column; any other model is refused.
 */
export function descriptorOf(pool: Pool, name: string): { data: Float32Array; dim: number } {
  if (name === "phash") return { data: pool.phash, dim: pool.phash.length / pool.size };
  if (name === "embedding") {
    const dim = pool.embedding.length / pool.size;
    return { data: normalizeRows(Float32Array.from(pool.embedding), dim), dim };
  }
  if (!pool.descriptor || pool.meta.descriptor === undefined) {
    throw new CurateError(
      "--descriptor",
      `the pool has no descriptor column; ${name} was asked for`,
      "embed with --descriptor FILE.onnx first (a fresh --db), or use --descriptor phash",
    );
  }
  if (pool.meta.descriptor !== name) {
    throw new CurateError(
      "--descriptor",
      `the pool's descriptors were made by ${pool.meta.descriptor}; this run gives ${name}`,
      "descriptors of different models are never mixed: pass the same file, size, mean and std as embed",
    );
  }
  return { data: pool.descriptor, dim: pool.meta.descriptorDim! };
}

function paramsKey(p: DedupParams): string {
  return JSON.stringify([
    p.descriptor,
    p.k,
    p.threshold,
    p.relativeThreshold,
    p.against?.paths ?? [],
  ]);
}

/** This shard's edges (rows it owns vs the whole pool) and near-test hits, written as one part. */
export async function dedupPart(
  store: CurateStore,
  pool: Pool,
  gemm: CurateGemm,
  p: DedupParams,
  shard: Shard,
): Promise<{ edges: number; nearTest: number }> {
  const tag = shardTag(shard);
  const done = `dedup_done_${tag}`;
  if ((await store.has(done)) && (await store.metadata(done)).get("params") === paramsKey(p)) {
    return {
      edges: await store.count(`dedup_edges_${tag}`),
      nearTest: await store.count(`dedup_near_${tag}`),
    };
  }
  const { data, dim } = descriptorOf(pool, p.descriptor);
  const rows = Array.from({ length: pool.size }, (_, i) => i).filter((i) => ownsRow(shard, i));
  const queries = new Float32Array(rows.length * dim);
  for (const [i, r] of rows.entries()) queries.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
  const nb = await exactNeighbours(gemm, data, queries, {
    k: p.k,
    minSim: p.threshold,
    queryIds: rows,
  });
  const edges: Row[] = [];
  rows.forEach((r, i) => {
    for (let j = 0; j < p.k; j++) {
      const t = nb.indices[i * p.k + j]!;
      if (t >= 0) edges.push({ a: r, b: t, sim: nb.sims[i * p.k + j]! });
    }
  });
  const near: Row[] = [];
  if (p.against && p.against.paths.length > 0) {
    const hits = await exactNeighbours(gemm, p.against.vectors, queries, {
      k: 1,
      minSim: p.relativeThreshold,
    });
    rows.forEach((r, i) => {
      const t = hits.indices[i]!;
      if (t >= 0) near.push({ id: r, test_path: p.against!.paths[t]!, sim: hits.sims[i]! });
    });
  }
  await store.write(`dedup_edges_${tag}`, { a: "int32", b: "int32", sim: "float64" }, edges);
  await store.write(`dedup_near_${tag}`, { id: "int32", test_path: "utf8", sim: "float64" }, near);
  await store.write(done, { rows: "int32" }, [{ rows: rows.length }], {
    params: paramsKey(p),
    shards: String(shard.count),
  });
  return { edges: edges.length, nearTest: near.length };
}

export interface DedupSummary {
  readonly kept: number;
  readonly copies: number;
  readonly nearTest: number;
  readonly groups: number;
  readonly largestGroup: number;
}

/** Joins every shard's part: components, keepers, and the kept / removed tables. */
export async function mergeDedup(
  store: CurateStore,
  pool: Pool,
  p: DedupParams,
  shards: number,
): Promise<DedupSummary> {
  const uf = new UnionFind(pool.size);
  const near = new Map<number, { path: string; sim: number }>();
  const missing: number[] = [];
  for (let i = 0; i < shards; i++) {
    const tag = `${i}of${shards}`;
    const done = `dedup_done_${tag}`;
    if (!(await store.has(done)) || (await store.metadata(done)).get("params") !== paramsKey(p)) {
      missing.push(i);
      continue;
    }
    const e = await store.read(`dedup_edges_${tag}`, ["a", "b"]);
    const [a, b] = [column<number>(e, "a"), column<number>(e, "b")];
    for (const [j, x] of a.entries()) uf.union(x, b[j]!);
    const n = await store.read(`dedup_near_${tag}`, ["id", "test_path", "sim"]);
    const [ids, tp, sims] = [
      column<number>(n, "id"),
      column<string>(n, "test_path"),
      column<number>(n, "sim"),
    ];
    for (const [j, id] of ids.entries()) near.set(id, { path: tp[j]!, sim: sims[j]! });
  }
  if (missing.length > 0) {
    throw new CurateError(
      "dedup --merge",
      `shards ${missing.map((i) => `${i}/${shards}`).join(", ")} have no finished part with these settings`,
      "run (or rerun) `dinov2 curate dedup --shard I/N` for them with the same flags",
    );
  }
  const removed: Row[] = [];
  const removedIds = new Set<number>();
  const groups = uf.groups();
  let copies = 0;
  groups.forEach((g, gi) => {
    const keeper = g.reduce((best, i) => {
      const area = pool.width[i]! * pool.height[i]!;
      const bestArea = pool.width[best]! * pool.height[best]!;
      return area > bestArea ? i : best;
    }, g[0]!);
    for (const i of g) {
      if (i === keeper) continue;
      removed.push({
        id: i,
        path: pool.paths[i]!,
        reason: "copy",
        group: gi,
        kept_id: keeper,
        kept_path: pool.paths[keeper]!,
        test_path: "",
      });
      removedIds.add(i);
      copies++;
    }
  });
  // A component touching an evaluation image goes entirely (its keeper too).
  const groupOf = new Map<number, number>();
  for (const [gi, g] of groups.entries()) for (const i of g) groupOf.set(i, gi);
  let nearTest = 0;
  for (const id of [...near.keys()].sort((x, y) => x - y)) {
    const hit = near.get(id)!;
    const members = groupOf.has(id) ? groups[groupOf.get(id)!]! : [id];
    for (const m of members) {
      if (removedIds.has(m)) continue;
      removed.push({
        id: m,
        path: pool.paths[m]!,
        reason: "near-test",
        group: groupOf.get(m) ?? -1,
        kept_id: -1,
        kept_path: "",
        test_path: hit.path,
      });
      removedIds.add(m);
      nearTest++;
    }
  }
  removed.sort((x, y) => (x.id as number) - (y.id as number));
  const kept: Row[] = [];
  for (let i = 0; i < pool.size; i++)
    if (!removedIds.has(i)) kept.push({ id: i, path: pool.paths[i]! });
  const meta = { params: paramsKey(p) };
  await store.write(DEDUP_KEPT, { id: "int32", path: "utf8" }, kept, meta);
  await store.write(
    DEDUP_REMOVED,
    {
      id: "int32",
      path: "utf8",
      reason: "utf8",
      group: "int32",
      kept_id: "int32",
      kept_path: "utf8",
      test_path: "utf8",
    },
    removed,
    meta,
  );
  return {
    kept: kept.length,
    copies,
    nearTest,
    groups: groups.length,
    largestGroup: Math.max(0, ...groups.map((g) => g.length)),
  };
}
