// `curate retrieve`: the pool images that look like a curated set, as the paper (App. A.3).
// Sample-based: the N nearest kept pool images of every curated query (cosine of embeddings; the
// paper used N = 4 or 32 per dataset). Cluster-based: the level-0 clusters that hold more than 3
// curated queries, M images from each. The union, capped at `cap` (highest similarity to a query
// first), is the `retrieved` table. Sharded by query: each worker embeds and searches its queries;
// the merge counts queries per cluster over all of them and draws the cluster-based images.
import { createRng } from "../data/rng.js";
import { readCentroids, readClusters, unitEmbeddings } from "./cluster-stage.js";
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";
import { exactNeighbours, normalizeRows } from "./knn.js";
import type { Pool } from "./pool.js";
import { type Shard, SINGLE, shardTag } from "./shard.js";
import { type CurateStore, column, type Row, vectors } from "./store.js";

export const RETRIEVED = "retrieved";

export interface RetrieveOptions {
  readonly mode: "sample" | "cluster" | "both";
  /** Nearest pool images per query (sample-based). */
  readonly perQuery: number;
  /** Images taken from each selected cluster (cluster-based). */
  readonly perCluster: number;
  /** A cluster is selected when it holds more than this many queries (paper: 3). */
  readonly minQueries: number;
  readonly cap: number;
  readonly seed: number;
  /** Nearest neighbours of unit queries among unit base rows; default exact search. */
  readonly search?: (
    base: Float32Array,
    queries: Float32Array,
    k: number,
  ) => Promise<{ indices: Int32Array; sims: Float32Array }>;
}

export interface Queries {
  readonly paths: readonly string[];
  /** [n, D] raw embeddings of the curated images, same model as the pool. */
  readonly embeddings: Float32Array;
}

export interface RetrieveSummary {
  readonly bySample: number;
  readonly byCluster: number;
  readonly clustersSelected: number;
  readonly retrieved: number;
}

/** The whole stage in one process: every query is one part, then the merge. */
export async function retrieveStage(
  store: CurateStore,
  pool: Pool,
  kept: Int32Array,
  queries: Queries,
  gemm: CurateGemm,
  o: RetrieveOptions,
): Promise<RetrieveSummary> {
  const index = Int32Array.from(queries.paths.keys());
  await retrievePart(store, pool, kept, { ...queries, index }, gemm, o, SINGLE);
  return mergeRetrieve(store, pool, kept, o, 1);
}

/**
 * One shard's queries (`index`: their positions in the whole curated list, ascending): their
 * nearest kept images (sample-based) and level-0 clusters (cluster-based), as part tables.
 */
export async function retrievePart(
  store: CurateStore,
  pool: Pool,
  kept: Int32Array,
  queries: Queries & { readonly index: Int32Array },
  gemm: CurateGemm,
  o: RetrieveOptions,
  shard: Shard,
): Promise<{ queries: number; hits: number }> {
  const dim = pool.meta.embeddingDim;
  const n = queries.paths.length;
  if (n > 0 && queries.embeddings.length !== n * dim) {
    throw new CurateError(
      "--curated",
      `curated embeddings have width ${queries.embeddings.length / n}; the pool's is ${dim}`,
      "embed both with the same --model",
    );
  }
  const q = normalizeRows(Float32Array.from(queries.embeddings), dim);
  const hits: Row[] = [];
  if (o.mode !== "cluster" && n > 0) {
    const base = unitEmbeddings(pool, kept);
    const k = Math.min(o.perQuery, kept.length);
    const nb = o.search ? await o.search(base, q, k) : await exactNeighbours(gemm, base, q, { k });
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const r = nb.indices[i * k + j]!;
        if (r >= 0)
          hits.push({ q: queries.index[i]!, rank: j, id: kept[r]!, sim: nb.sims[i * k + j]! });
      }
    }
  }
  let labels: Int32Array = new Int32Array(n).fill(-1);
  if (o.mode !== "sample" && n > 0) {
    const { ks } = await readClusters(store);
    const spherical = (await store.metadata("clusters")).get("spherical") === "true";
    labels = (await gemm.assign(q, n, await readCentroids(store, 0), ks[0]!, spherical)).labels;
  }
  const tag = shardTag(shard);
  await store.write(
    `retrieve_hits_${tag}`,
    { q: "int32", rank: "int32", id: "int32", sim: "float64" },
    hits,
  );
  await store.write(
    `retrieve_queries_${tag}`,
    { q: "int32", path: "utf8", cluster: "int32", embedding: { vector: dim } },
    queries.paths.map((path, i) => ({
      q: queries.index[i]!,
      path,
      cluster: labels[i]!,
      embedding: q.slice(i * dim, (i + 1) * dim),
    })),
    { mode: o.mode, per_query: String(o.perQuery) },
  );
  return { queries: n, hits: hits.length };
}

/** Joins the N parts: sample-based hits, then the clusters holding > minQueries queries. */
export async function mergeRetrieve(
  store: CurateStore,
  pool: Pool,
  kept: Int32Array,
  o: RetrieveOptions,
  shards: number,
): Promise<RetrieveSummary> {
  const dim = pool.meta.embeddingDim;
  const parts: { q: number; path: string; cluster: number; emb: Float32Array }[] = [];
  const hitRows: { q: number; rank: number; id: number; sim: number }[] = [];
  const missing: number[] = [];
  for (let s = 0; s < shards; s++) {
    const tag = `${s}of${shards}`;
    const qt = `retrieve_queries_${tag}`;
    const md = (await store.has(qt)) ? await store.metadata(qt) : undefined;
    if (!md || md.get("mode") !== o.mode || md.get("per_query") !== String(o.perQuery)) {
      missing.push(s);
      continue;
    }
    const t = await store.read(qt, ["q", "path", "cluster", "embedding"]);
    const [qs, paths, cl] = [
      column<number>(t, "q"),
      column<string>(t, "path"),
      column<number>(t, "cluster"),
    ];
    const e = vectors(t, "embedding");
    qs.forEach((qi, r) => {
      parts.push({
        q: qi,
        path: paths[r]!,
        cluster: cl[r]!,
        emb: e.data.slice(r * dim, (r + 1) * dim),
      });
    });
    const h = await store.read(`retrieve_hits_${tag}`, ["q", "rank", "id", "sim"]);
    const [hq, hr, hid, hs] = [
      column<number>(h, "q"),
      column<number>(h, "rank"),
      column<number>(h, "id"),
      column<number>(h, "sim"),
    ];
    hq.forEach((qi, r) => {
      hitRows.push({ q: qi, rank: hr[r]!, id: hid[r]!, sim: hs[r]! });
    });
  }
  if (missing.length > 0) {
    throw new CurateError(
      "retrieve --merge",
      `shards ${missing.map((i) => `${i}/${shards}`).join(", ")} have no finished part with these settings`,
      "run (or rerun) `dinov2 curate retrieve --shard I/N` for them with the same flags",
    );
  }
  if (parts.length === 0) {
    throw new CurateError("--curated", "the curated set holds no decodable image");
  }
  parts.sort((a, b) => a.q - b.q);
  const slot = new Map(parts.map((p, i) => [p.q, i]));
  const q = new Float32Array(parts.length * dim);
  parts.forEach((p, i) => {
    q.set(p.emb, i * dim);
  });
  const best = new Map<number, { sim: number; query: number; via: string }>();
  const offer = (id: number, sim: number, query: number, via: string) => {
    const b = best.get(id);
    if (!b || sim > b.sim) best.set(id, { sim, query, via: b && b.via !== via ? "both" : via });
    else if (b.via !== via) b.via = "both";
  };
  hitRows.sort((a, b) => a.q - b.q || a.rank - b.rank);
  for (const h of hitRows) offer(h.id, h.sim, slot.get(h.q)!, "sample");
  const bySample = best.size;
  let byCluster = 0;
  let clustersSelected = 0;
  if (o.mode !== "sample") {
    const { ids, ks, labels } = await readClusters(store);
    const base = unitEmbeddings(pool, kept);
    const qLabels = parts.map((p) => p.cluster);
    const perCluster = new Map<number, number[]>();
    qLabels.forEach((c, i) => {
      perCluster.set(c, [...(perCluster.get(c) ?? []), i]);
    });
    const members: number[][] = Array.from({ length: ks[0]! }, () => []);
    labels[0]!.forEach((c, i) => {
      members[c]!.push(ids[i]!);
    });
    const rowOf = new Map<number, number>();
    kept.forEach((id, r) => {
      rowOf.set(id, r);
    });
    const rng = createRng(o.seed).split("retrieve");
    const before = best.size;
    for (const [c, qs] of [...perCluster].sort((a, b) => a[0] - b[0])) {
      if (qs.length <= o.minQueries) continue;
      clustersSelected++;
      const m = members[c]!;
      const perm = rng.split(c).permutation(m.length);
      for (let j = 0; j < Math.min(o.perCluster, m.length); j++) {
        const id = m[perm[j]!]!;
        // Similarity to the cluster's closest query, for ranking under the cap.
        let sim = Number.NEGATIVE_INFINITY;
        let query = qs[0]!;
        for (const qi of qs) {
          let s = 0;
          for (let d = 0; d < dim; d++) s += q[qi * dim + d]! * base[rowOf.get(id)! * dim + d]!;
          if (s > sim) [sim, query] = [s, qi];
        }
        offer(id, sim, query, "cluster");
      }
    }
    byCluster = best.size - before;
  }
  const rows: Row[] = [...best]
    .sort((a, b) => b[1].sim - a[1].sim || a[0] - b[0])
    .slice(0, o.cap)
    .sort((a, b) => a[0] - b[0])
    .map(([id, b]) => ({
      id,
      path: pool.paths[id]!,
      via: b.via,
      query_path: parts[b.query]!.path,
      sim: b.sim,
    }));
  await store.write(
    RETRIEVED,
    { id: "int32", path: "utf8", via: "utf8", query_path: "utf8", sim: "float64" },
    rows,
  );
  return { bySample, byCluster, clustersSelected, retrieved: rows.length };
}
