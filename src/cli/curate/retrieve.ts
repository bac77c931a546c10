// `dinov2 curate retrieve`: the curated queries' nearest pool images and the clusters they fall
// in (one part of the queries per shard; --merge combines them under the per-dataset caps).
// With an ANN index, `--build-index` builds it once so that every `--shard` worker searches the
// same index instead of building its own.
import {
  ANN_MODES,
  ANN_THRESHOLD,
  annRecall,
  annVectors,
  hasIndex,
  indexedSearch,
  resolveAnn,
  type Search,
} from "../../curate/ann.js";
import { keptIds, unitEmbeddings } from "../../curate/cluster-stage.js";
import { featurize } from "../../curate/featurize.js";
import { normalizeRows } from "../../curate/knn.js";
import { checkCompatible, readPool } from "../../curate/pool.js";
import { mergeRetrieve, retrievePart } from "../../curate/retrieve-stage.js";
import { ownsRow, shardTag } from "../../curate/shard.js";
import { listImageInputs } from "../../inference/image-inputs.js";
import { mergedShardCount, req } from "../curate-values.js";
import { choiceFlag, intFlag } from "../flag-values.js";
import { UsageError } from "../usage-error.js";
import { type CurateRun, descriptorMeta, log } from "./context.js";

export async function runRetrieve(r: CurateRun): Promise<void> {
  const { v, ctx, store } = r;
  const pool = await readPool(store);
  const kept = await keptIds(store);
  const shard = r.shard();
  const opts = {
    mode: choiceFlag(v.mode, "mode", ["sample", "cluster", "both"] as const),
    perQuery: intFlag(v["per-query"], "per-query", { min: 1 }),
    perCluster: intFlag(v["per-cluster"], "per-cluster", { min: 1 }),
    minQueries: 3,
    cap: intFlag(v.cap, "cap", { min: 1 }),
    seed: intFlag(v.seed, "seed", { min: 0 }),
  };
  if (v.merge) {
    if (v.curated !== undefined)
      throw new UsageError("--merge combines finished parts; give it without --curated", {
        flag: "--merge",
      });
    const n = mergedShardCount(v.shard, await store.names(), "retrieve_queries_", "retrieve");
    const m = await mergeRetrieve(store, pool, kept, opts, n);
    ctx.out(
      `retrieve --merge: ${n} parts -> ${m.retrieved} images (${m.bySample} sample-based, ${m.byCluster} more from ${m.clustersSelected} clusters) (table "retrieved")`,
    );
    return;
  }
  const kind = resolveAnn(choiceFlag(v.ann, "ann", ANN_MODES), kept.length);
  const dim = pool.meta.embeddingDim;
  if (v["build-index"]) {
    r.oneProcess("retrieve --build-index", "it builds the one index the workers share");
    if (v.curated !== undefined)
      throw new UsageError("--build-index builds the index only; give it without --curated", {
        flag: "--build-index",
      });
    if (kind === "exact")
      throw new UsageError(
        `--build-index: --ann ${v.ann} searches exactly here (${kept.length} kept images), so there is no index to build`,
        {
          flag: "--ann",
          hint: `give --ann ivf-pq or hnsw-sq (auto indexes from ${ANN_THRESHOLD} kept images)`,
        },
      );
    const vectors = annVectors(kind, unitEmbeddings(pool, kept), dim);
    const { built } = await indexedSearch(store, "kept", vectors);
    ctx.out(
      `retrieve --build-index: LanceDB ${kind} index over ${kept.length} kept embeddings ${built ? "built" : "already built"} (table "ann_kept"); the --shard workers search it`,
    );
    return;
  }
  const curated = req(v.curated, "curated", "retrieve");
  const all = (await listImageInputs([curated])).files;
  const fileIndex = new Map(all.map((f, i) => [f, i]));
  const files = all.filter((_, i) => ownsRow(shard, i));
  const { embedder, meta } = await r.embedder();
  let queries: { paths: string[]; embeddings: Float32Array; index: Int32Array };
  try {
    checkCompatible("pool", pool.meta, { ...meta, ...descriptorMeta(pool.meta) });
    const f = await featurize(files, embedder);
    for (const x of f.rejects) log(`--curated: skipped ${x.path}: ${x.reason}`);
    const dim = embedder.dim;
    const embeddings = new Float32Array(f.rows.length * dim);
    f.rows.forEach((row, i) => {
      embeddings.set(row.embedding, i * dim);
    });
    queries = {
      paths: f.rows.map((row) => row.path),
      embeddings,
      index: Int32Array.from(f.rows, (row) => fileIndex.get(row.path)!),
    };
  } finally {
    await embedder.release();
  }
  const gemm = await r.gemm(dim);
  let search: Search | undefined;
  if (kind !== "exact") {
    const unit = unitEmbeddings(pool, kept);
    const vectors = annVectors(kind, unit, dim);
    // Workers share the index `--build-index` made; without it each builds its own copy.
    let name = "kept";
    if (shard.count > 1 && !(await hasIndex(store, name, vectors))) {
      name = `kept_${shardTag(shard)}`;
      log(
        `retrieve: no shared ${kind} index over these kept embeddings, so this worker builds its own; run \`dinov2 curate retrieve --build-index --ann ${kind}\` once before the workers to share one`,
      );
    }
    const ix = await indexedSearch(store, name, vectors);
    search = ix.search;
    ctx.out(
      `retrieve: ${ix.built ? "built" : "reusing"} a LanceDB ${kind} index over ${kept.length} kept embeddings (table "ann_${name}")`,
    );
    const sample = normalizeRows(
      queries.embeddings.slice(0, Math.min(50, queries.paths.length) * dim),
      dim,
    );
    const k = Math.min(opts.perQuery, kept.length);
    const recall = await annRecall(gemm, search, unit, sample, k);
    ctx.out(
      `retrieve: ${kind} recall@${k} against exact search on ${sample.length / dim} queries: ${recall.toFixed(3)}`,
    );
  }
  const o = { ...opts, ...(search ? { search } : {}) };
  const p = await retrievePart(store, pool, kept, queries, gemm, o, shard);
  if (shard.count > 1) {
    ctx.out(
      `retrieve ${shard.index}/${shard.count}: ${p.queries} curated queries, ${p.hits} nearest-neighbour hits`,
    );
    return;
  }
  const m = await mergeRetrieve(store, pool, kept, o, 1);
  ctx.out(
    `retrieve: ${m.retrieved} images for ${queries.paths.length} curated queries (${m.bySample} sample-based, ${m.byCluster} more from ${m.clustersSelected} clusters) (table "retrieved")`,
  );
}
