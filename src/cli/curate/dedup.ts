// `dinov2 curate dedup` (copy edges per shard, connected components at --merge) and `curate
// calibrate` (a descriptor's threshold from planted copies).
import { calibrate, readManifest } from "../../curate/calibrate.js";
import { dedupPart, descriptorOf, mergeDedup } from "../../curate/dedup-stage.js";
import { type DescriptorName, thresholdsFor } from "../../curate/descriptors.js";
import { describeFiles, featurize, hashFiles } from "../../curate/featurize.js";
import { normalizeRows } from "../../curate/knn.js";
import type { DescriptorModel } from "../../curate/onnx-descriptor.js";
import { checkCompatible, type PoolMeta, readPool } from "../../curate/pool.js";
import { listImageInputs } from "../../inference/image-inputs.js";
import { descriptorKey, descriptorModel } from "../curate-descriptor.js";
import { mergedShardCount, num, req } from "../curate-values.js";
import { intFlag } from "../flag-values.js";
import { type CurateRun, descriptorMeta, log } from "./context.js";

export async function runDedup(r: CurateRun): Promise<void> {
  const model = await descriptorModel(r.v, r.threads());
  try {
    await dedupWith(r, model);
  } finally {
    await model?.release();
  }
}

async function dedupWith(r: CurateRun, model: DescriptorModel | undefined): Promise<void> {
  const { v, ctx, store } = r;
  const shard = r.shard();
  const pool = await readPool(store);
  const { name, key } = descriptorKey(v, model);
  const t = thresholdsFor(
    name,
    num(v.threshold, "threshold"),
    num(v["relative-threshold"], "relative-threshold"),
  );
  const dim = descriptorOf(pool, key).dim;
  const against = v.against.length > 0 ? await againstSet(r, name, pool.meta, model) : undefined;
  const params = {
    descriptor: key,
    k: intFlag(v.k, "k", { min: 1 }),
    threshold: t.self,
    relativeThreshold: t.relative,
    ...(against ? { against } : {}),
  };
  const gemm = await r.gemm(dim);
  if (!v.merge) {
    log(
      `dedup ${shard.index}/${shard.count}: ${pool.size} images, ${key} cosine > ${t.self}${against ? `, ${against.paths.length} --against images at > ${t.relative}` : ""}`,
    );
    const p = await dedupPart(store, pool, gemm, params, shard);
    ctx.out(
      `dedup ${shard.index}/${shard.count}: ${p.edges} copy edges, ${p.nearTest} near-eval hits`,
    );
  }
  if (v.merge || shard.count === 1) {
    const n = v.merge ? mergedShardCount(v.shard, await store.names(), "dedup_done_", "dedup") : 1;
    const s = await mergeDedup(store, pool, params, n);
    ctx.out(
      `dedup: kept ${s.kept} of ${pool.size}; removed ${s.copies} copies in ${s.groups} groups (largest ${s.largestGroup}) and ${s.nearTest} near-eval images (table "dedup_removed")`,
    );
  }
}

/** The --against evaluation images, described as the pool's dedup descriptor. */
async function againstSet(
  r: CurateRun,
  descriptor: DescriptorName,
  meta: PoolMeta,
  model: DescriptorModel | undefined,
) {
  const { files } = await listImageInputs(r.v.against);
  if (descriptor === "phash" || descriptor === "onnx") {
    const h = descriptor === "phash" ? await hashFiles(files) : await describeFiles(files, model!);
    for (const x of h.rejects) log(`--against: skipped ${x.path}: ${x.reason}`);
    return { vectors: h.vectors, paths: h.paths };
  }
  const { embedder, meta: m } = await r.embedder();
  try {
    checkCompatible("pool", meta, { ...m, ...descriptorMeta(meta) });
    const f = await featurize(files, embedder);
    const dim = embedder.dim;
    const vectors = new Float32Array(f.rows.length * dim);
    f.rows.forEach((row, i) => {
      vectors.set(row.embedding, i * dim);
    });
    return { vectors: normalizeRows(vectors, dim), paths: f.rows.map((row) => row.path) };
  } finally {
    await embedder.release();
  }
}

export async function runCalibrate(r: CurateRun): Promise<void> {
  const { v, ctx, store } = r;
  const manifest = await readManifest(req(v.planted, "planted", "calibrate"));
  const pool = await readPool(store);
  const model = await descriptorModel(v, r.threads());
  try {
    const { key } = descriptorKey(v, model);
    const c = calibrate(pool, descriptorOf(pool, key), manifest);
    const q = (p: number) => c.copyCosines[Math.floor(p * (c.copyCosines.length - 1))]!.toFixed(3);
    ctx.out(
      `calibrate ${key}: ${c.copyCosines.length} planted copies, cosine with their source min ${q(0)}, median ${q(0.5)}; ${c.distinctPairs} pairs of distinct originals, highest ${c.distinctMax.toFixed(3)}`,
    );
    ctx.out(
      `suggested: --threshold ${c.threshold.toFixed(2)} (no distinct pair above it; finds ${(100 * c.recall).toFixed(1)}% of the planted copies)`,
    );
  } finally {
    await model?.release();
  }
}
