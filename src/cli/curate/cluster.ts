// `dinov2 curate cluster` (hierarchical k-means: fit once, or --fit then --shard I/N assignment
// and --merge) and `curate sample` (balanced sampling over the hierarchy).
import {
  assignClusterPart,
  CLUSTERS,
  clusterStage,
  fitClusters,
  keptIds,
  mergeClusters,
  sampleStage,
} from "../../curate/cluster-stage.js";
import { readPool } from "../../curate/pool.js";
import { defaultLevels, mergedShardCount, parseLevels, req } from "../curate-values.js";
import { choiceFlag, intFlag } from "../flag-values.js";
import { createProgressBar } from "../progress.js";
import { UsageError } from "../usage-error.js";
import type { CurateRun } from "./context.js";

export async function runCluster(r: CurateRun): Promise<void> {
  const { v, ctx, store } = r;
  const pool = await readPool(store);
  const gemm = await r.gemm(pool.meta.embeddingDim);
  const shard = r.shard();
  if (v.fit && (v.merge || shard.count > 1))
    throw new UsageError("--fit trains once; give it without --shard or --merge", {
      flag: "--fit",
    });
  if (v.merge) {
    const n = mergedShardCount(v.shard, await store.names(), "cluster_part_", "cluster");
    const rows = await mergeClusters(store, pool, n);
    ctx.out(`cluster --merge: ${n} parts -> ${rows} kept images labelled (table "${CLUSTERS}")`);
    return;
  }
  if (shard.count > 1) {
    const n = await assignClusterPart(store, pool, gemm, shard);
    ctx.out(`cluster ${shard.index}/${shard.count}: ${n} kept images assigned`);
    return;
  }
  const kept = await keptIds(store);
  const ks = v.levels === undefined ? defaultLevels(kept.length) : parseLevels(v.levels);
  const bar = createProgressBar({ total: ks.length, label: "cluster", unit: "level" });
  const opts = {
    init: choiceFlag(v.init, "init", ["kmeans++", "random"] as const),
    spherical: v.spherical,
    iterations: intFlag(v.iterations, "iterations", { min: 1 }),
    restarts: intFlag(v.restarts, "restarts", { min: 1 }),
    maxPointsPerCentroid: intFlag(v["max-points-per-centroid"], "max-points-per-centroid", {
      min: 1,
    }),
    seed: intFlag(v.seed, "seed", { min: 0 }),
  };
  if (v.fit) {
    await fitClusters(store, pool, gemm, ks, opts, (l) => bar.update(l + 1));
    bar.finish();
    ctx.out(
      `cluster --fit: levels of [${ks.join(", ")}] clusters trained on ${kept.length} kept images; next: \`cluster --shard I/N\` per worker, then \`cluster --merge\``,
    );
    return;
  }
  await clusterStage(store, pool, gemm, ks, opts, (l) => bar.update(l + 1));
  bar.finish();
  ctx.out(
    `cluster: ${kept.length} kept images into levels of [${ks.join(", ")}] clusters (table "${CLUSTERS}")`,
  );
}

export async function runSample(r: CurateRun): Promise<void> {
  r.oneProcess(
    "sample",
    "it reads only the cluster labels (seconds for millions of images); a split would cost more than it saves",
  );
  const pool = await readPool(r.store);
  const budget = intFlag(req(r.v.budget, "budget", "sample"), "budget", { min: 1 });
  const n = await sampleStage(r.store, pool, budget, intFlag(r.v.seed, "seed", { min: 0 }));
  r.ctx.out(`sample: ${n} images balanced over the hierarchy (table "sampled")`);
}
