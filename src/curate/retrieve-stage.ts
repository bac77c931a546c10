// `curate retrieve`: the pool images that look like a curated set, as the paper (App. A.3).
// Sample-based: the N nearest kept pool images of every curated query (cosine of embeddings; the
// paper used N = 4 or 32 per dataset). Cluster-based: the level-0 clusters that hold more than 3
// curated queries, M images from each. The union, capped at `cap` (highest similarity to a query
// first), is the `retrieved` table.
import { createRng } from "../data/rng.js";
import { readCentroids, readClusters, unitEmbeddings } from "./cluster-stage.js";
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";
import { exactNeighbours, normalizeRows } from "./knn.js";
import type { Pool } from "./pool.js";
import type { CurateStore, Row } from "./store.js";

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

export async function retrieveStage(
  store: CurateStore,
  pool: Pool,
  kept: Int32Array,
  queries: Queries,
  gemm: CurateGemm,
  o: RetrieveOptions,
): Promise<RetrieveSummary> {
  const dim = pool.meta.embeddingDim;
  if (queries.paths.length === 0) {
    throw new CurateError("--curated", "the curated set holds no decodable image");
  }
  if (queries.embeddings.length !== queries.paths.length * dim) {
    throw new CurateError(
      "--curated",
      `curated embeddings have width ${queries.embeddings.length / queries.paths.length}; the pool's is ${dim}`,
      "embed both with the same --model",
    );
  }
  const q = normalizeRows(Float32Array.from(queries.embeddings), dim);
  const base = unitEmbeddings(pool, kept);
  // best[pool id] = { sim, query, via }
  const best = new Map<number, { sim: number; query: number; via: string }>();
  const offer = (id: number, sim: number, query: number, via: string) => {
    const b = best.get(id);
    if (!b || sim > b.sim) best.set(id, { sim, query, via: b && b.via !== via ? "both" : via });
    else if (b.via !== via) b.via = "both";
  };
  let bySample = 0;
  if (o.mode !== "cluster") {
    const k = Math.min(o.perQuery, kept.length);
    const nb = o.search ? await o.search(base, q, k) : await exactNeighbours(gemm, base, q, { k });
    for (let i = 0; i < queries.paths.length; i++) {
      for (let j = 0; j < k; j++) {
        const r = nb.indices[i * k + j]!;
        if (r >= 0) offer(kept[r]!, nb.sims[i * k + j]!, i, "sample");
      }
    }
    bySample = best.size;
  }
  let byCluster = 0;
  let clustersSelected = 0;
  if (o.mode !== "sample") {
    const { ids, ks, labels } = await readClusters(store);
    const spherical = (await store.metadata("clusters")).get("spherical") === "true";
    const centroids = await readCentroids(store, 0);
    const { labels: qLabels } = await gemm.assign(
      q,
      queries.paths.length,
      centroids,
      ks[0]!,
      spherical,
    );
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
      query_path: queries.paths[b.query]!,
      sim: b.sim,
    }));
  await store.write(
    RETRIEVED,
    { id: "int32", path: "utf8", via: "utf8", query_path: "utf8", sim: "float64" },
    rows,
  );
  return { bySample, byCluster, clustersSelected, retrieved: rows.length };
}
