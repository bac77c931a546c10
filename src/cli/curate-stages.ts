// The run of each `dinov2 curate` stage: parse the flags once, refuse those a stage does not use,
// open the store, report progress and a one-line summary per stage. One class on purpose: the
// stages share the store, the GEMM sessions, the embedder and the shard parsing, and each method
// is only the CLI wiring of a stage whose work lives in src/curate/<stage>-stage.ts (flag values
// and part counts: curate-values.ts). Past 500 lines, split it by stage around a shared context.
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { ANN_MODES, annRecall, indexedSearch, resolveAnn, type Search } from "../curate/ann.js";
import { calibrate, readManifest } from "../curate/calibrate.js";
import {
  assignClusterPart,
  CLUSTERS,
  clusterStage,
  fitClusters,
  keptIds,
  mergeClusters,
  sampleStage,
  unitEmbeddings,
} from "../curate/cluster-stage.js";
import { dedupPart, descriptorOf, mergeDedup } from "../curate/dedup-stage.js";
import { type DescriptorName, thresholdsFor } from "../curate/descriptors.js";
import { embedPart, mergeEmbedParts } from "../curate/embed-stage.js";
import { exportPart, exportStage, mergeExport } from "../curate/export-stage.js";
import { describeFiles, featurize, hashFiles } from "../curate/featurize.js";
import { CurateGemm } from "../curate/gemm.js";
import { normalizeRows } from "../curate/knn.js";
import type { DescriptorModel } from "../curate/onnx-descriptor.js";
import { checkCompatible, type PoolMeta, readPool } from "../curate/pool.js";
import { reportStage } from "../curate/report-stage.js";
import { mergeRetrieve, retrievePart } from "../curate/retrieve-stage.js";
import { ownsRow, parseShard, type Shard, SINGLE, shardTag } from "../curate/shard.js";
import { CurateStore } from "../curate/store.js";
import { writeSyntheticPool } from "../curate/synthetic-pool.js";
import { createEmbedder, type Embedder } from "../inference/embedder.js";
import { listImageInputs } from "../inference/image-inputs.js";
import { resolveModel } from "../inference/model-spec.js";
import { checkImageSize } from "../inference/preprocess.js";
import type { CommandContext, FlagValues } from "./command.js";
import { checkEmbedDescriptor, descriptorKey, descriptorModel } from "./curate-descriptor.js";
import { CURATE_FLAGS, STAGE_FLAGS } from "./curate-flags.js";
import { defaultLevels, mergedShardCount, num, parseLevels, req } from "./curate-values.js";
import { asUsage, choiceFlag, intFlag } from "./flag-values.js";
import { createProgressBar } from "./progress.js";
import { UsageError } from "./usage-error.js";

type StageName =
  | "embed"
  | "dedup"
  | "cluster"
  | "sample"
  | "retrieve"
  | "export"
  | "report"
  | "calibrate"
  | "run";

const DEFAULTED = new Set(
  Object.entries(CURATE_FLAGS)
    .filter(([, f]) => "default" in f)
    .map(([k]) => k),
);

type V = FlagValues<typeof CURATE_FLAGS>;

export async function runCurate(v: V, ctx: CommandContext): Promise<number> {
  const [stage, ...rest] = ctx.positionals;
  if (!stage || !(stage in STAGE_FLAGS)) {
    throw new UsageError(
      `curate: ${stage ? `unknown stage "${stage}"` : "no stage given"}; expected one of ${Object.keys(STAGE_FLAGS).join(", ")}`,
      { flag: "<stage>", hint: "run `dinov2 curate --help`" },
    );
  }
  refuseUnused(stage, v, rest);
  if (stage === "synth") return synth(v, ctx);
  const store = await CurateStore.open(v.db);
  try {
    const s = new Stages(store, v, ctx, rest);
    try {
      await s[stage as StageName]();
    } finally {
      await s.release();
    }
    return 0;
  } finally {
    store.close();
  }
}

/** Nothing given is silently ignored: a flag the stage does not read is an error. */
function refuseUnused(stage: string, v: V, rest: readonly string[]): void {
  const used = new Set<string>([...STAGE_FLAGS[stage]!.flags, "db"]);
  for (const [k, val] of Object.entries(v)) {
    if (k === "help" || k === "debug" || used.has(k) || DEFAULTED.has(k)) continue;
    if (val === undefined || val === false || (Array.isArray(val) && val.length === 0)) continue;
    throw new UsageError(`--${k} does not apply to \`curate ${stage}\``, {
      flag: `--${k}`,
      hint: `\`curate ${stage}\` takes: ${STAGE_FLAGS[stage]!.flags.map((f) => `--${f}`).join(" ")}`,
    });
  }
  if (rest.length > 0 && !used.has("input"))
    throw new UsageError(`curate ${stage} takes no positional inputs; got ${rest.join(" ")}`);
}

async function synth(v: V, ctx: CommandContext): Promise<number> {
  const out = req(v.output, "output", "synth");
  const p = await writeSyntheticPool({ dir: out, seed: intFlag(v.seed, "seed", { min: 0 }) });
  ctx.out(
    `wrote ${Object.keys(p.labels).length} pool images (${p.copies.length} planted copies, ${p.nearTest.length} near-test, ${p.corrupt.length} broken) to ${p.poolDir}, test set ${p.testDir}`,
  );
  return 0;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

class Stages {
  private gemmCache = new Map<number, Promise<CurateGemm>>();

  constructor(
    private readonly store: CurateStore,
    private readonly v: V,
    private readonly ctx: CommandContext,
    private readonly rest: readonly string[],
  ) {}

  /** --merge reads --shard only as the part count; a worker parses it as I/N. */
  private shard(): Shard {
    return this.v.merge ? SINGLE : parseShard(this.v.shard, process.env);
  }

  private threads(): number {
    return this.v.threads === undefined
      ? availableParallelism()
      : intFlag(this.v.threads, "threads", { min: 1 });
  }

  private gemm(dim: number): Promise<CurateGemm> {
    let g = this.gemmCache.get(dim);
    if (!g) {
      g = CurateGemm.create(dim, { threads: this.threads() });
      this.gemmCache.set(dim, g);
    }
    return g;
  }

  private async embedder(): Promise<{ embedder: Embedder; meta: PoolMeta }> {
    const imageSize = intFlag(this.v["image-size"], "image-size", { min: 1 });
    const { backbone, description } = asUsage("--model", () =>
      resolveModel(this.v.model, intFlag(this.v.seed, "seed", { min: 0 })),
    );
    asUsage("--image-size", () => checkImageSize(imageSize, backbone.options.patchSize));
    const embedder = await createEmbedder({
      backbone,
      imageSize,
      batchSize: intFlag(this.v["batch-size"], "batch-size", { min: 1 }),
      threads: this.threads(),
    });
    return { embedder, meta: { model: description, embeddingDim: embedder.dim, imageSize } };
  }

  async embed(): Promise<void> {
    const shard = this.shard();
    // `run --descriptor phash|embedding` picks dedup's descriptor; only embed itself refuses it.
    if (this.ctx.positionals[0] === "embed") checkEmbedDescriptor(this.v);
    if (this.v.merge) {
      if (this.v.input !== undefined || this.v.descriptor !== undefined)
        throw new UsageError(
          "--merge combines finished parts; give it without --input or --descriptor",
          { flag: "--merge" },
        );
      const m = await mergeEmbedParts(this.store);
      this.ctx.out(
        `embed --merge: ${m.shards} parts -> pool of ${m.pool} images; ${m.exactDuplicates} exact duplicates dropped, ${m.rejected} files rejected`,
      );
      return;
    }
    const inputs = [req(this.v.input, "input", "embed"), ...this.rest];
    const { files, skipped } = await listImageInputs(inputs);
    if (skipped.length > 0)
      log(
        `not images by extension (${skipped.length}): ${skipped
          .slice(0, 5)
          .map((s) => s.path)
          .join(", ")}${skipped.length > 5 ? ", …" : ""}`,
      );
    const { embedder, meta: embedMeta } = await this.embedder();
    const descriptor = await descriptorModel(this.v, this.threads());
    const meta = descriptor
      ? { ...embedMeta, descriptor: descriptor.id, descriptorDim: descriptor.dim }
      : embedMeta;
    log(
      `embedding ${files.length} files (shard ${shard.index}/${shard.count}) with ${meta.model} at ${meta.imageSize}px${descriptor ? ` and descriptor ${descriptor.id} (${descriptor.dim}-d)` : ""} into ${this.store.uri}`,
    );
    let bar: ReturnType<typeof createProgressBar> | undefined;
    const onProgress = (done: number, total: number) => {
      bar ??= createProgressBar({ total, label: "embed", unit: "img" });
      bar.update(done);
    };
    const chunk =
      this.v.chunk === undefined ? undefined : intFlag(this.v.chunk, "chunk", { min: 1 });
    try {
      const r = await embedPart({
        store: this.store,
        files,
        embedder,
        meta,
        shard,
        onProgress,
        ...(descriptor ? { descriptor } : {}),
        ...(chunk ? { chunk } : {}),
      });
      bar?.finish();
      this.ctx.out(
        `embed ${shard.index}/${shard.count}: ${r.embedded} embedded, ${r.rejected} rejected, ${r.resumed} already done`,
      );
    } finally {
      await embedder.release();
      await descriptor?.release();
    }
    if (shard.count === 1) {
      const m = await mergeEmbedParts(this.store);
      this.ctx.out(
        `pool: ${m.pool} images; ${m.exactDuplicates} exact duplicates dropped, ${m.rejected} files rejected (table "rejects")`,
      );
    }
  }

  async dedup(): Promise<void> {
    const model = await descriptorModel(this.v, this.threads());
    try {
      await this.dedupWith(model);
    } finally {
      await model?.release();
    }
  }

  private async dedupWith(model: DescriptorModel | undefined): Promise<void> {
    const shard = this.shard();
    const pool = await readPool(this.store);
    const { name, key } = descriptorKey(this.v, model);
    const t = thresholdsFor(
      name,
      num(this.v.threshold, "threshold"),
      num(this.v["relative-threshold"], "relative-threshold"),
    );
    const dim = descriptorOf(pool, key).dim;
    const against =
      this.v.against.length > 0 ? await this.againstSet(name, pool.meta, model) : undefined;
    const params = {
      descriptor: key,
      k: intFlag(this.v.k, "k", { min: 1 }),
      threshold: t.self,
      relativeThreshold: t.relative,
      ...(against ? { against } : {}),
    };
    const gemm = await this.gemm(dim);
    if (!this.v.merge) {
      log(
        `dedup ${shard.index}/${shard.count}: ${pool.size} images, ${key} cosine > ${t.self}${against ? `, ${against.paths.length} --against images at > ${t.relative}` : ""}`,
      );
      const r = await dedupPart(this.store, pool, gemm, params, shard);
      this.ctx.out(
        `dedup ${shard.index}/${shard.count}: ${r.edges} copy edges, ${r.nearTest} near-eval hits`,
      );
    }
    if (this.v.merge || shard.count === 1) {
      const n = this.v.merge
        ? mergedShardCount(this.v.shard, await this.store.names(), "dedup_done_", "dedup")
        : 1;
      const s = await mergeDedup(this.store, pool, params, n);
      this.ctx.out(
        `dedup: kept ${s.kept} of ${pool.size}; removed ${s.copies} copies in ${s.groups} groups (largest ${s.largestGroup}) and ${s.nearTest} near-eval images (table "dedup_removed")`,
      );
    }
  }

  private async againstSet(
    descriptor: DescriptorName,
    meta: PoolMeta,
    model: DescriptorModel | undefined,
  ) {
    const { files } = await listImageInputs(this.v.against);
    if (descriptor === "phash" || descriptor === "onnx") {
      const h =
        descriptor === "phash" ? await hashFiles(files) : await describeFiles(files, model!);
      for (const r of h.rejects) log(`--against: skipped ${r.path}: ${r.reason}`);
      return { vectors: h.vectors, paths: h.paths };
    }
    const { embedder, meta: m } = await this.embedder();
    try {
      checkCompatible("pool", meta, { ...m, ...descriptorMeta(meta) });
      const f = await featurize(files, embedder);
      const dim = embedder.dim;
      const vectors = new Float32Array(f.rows.length * dim);
      f.rows.forEach((r, i) => {
        vectors.set(r.embedding, i * dim);
      });
      return { vectors: normalizeRows(vectors, dim), paths: f.rows.map((r) => r.path) };
    } finally {
      await embedder.release();
    }
  }

  async calibrate(): Promise<void> {
    const manifest = await readManifest(req(this.v.planted, "planted", "calibrate"));
    const pool = await readPool(this.store);
    const model = await descriptorModel(this.v, this.threads());
    try {
      const { key } = descriptorKey(this.v, model);
      const c = calibrate(pool, descriptorOf(pool, key), manifest);
      const q = (p: number) =>
        c.copyCosines[Math.floor(p * (c.copyCosines.length - 1))]!.toFixed(3);
      this.ctx.out(
        `calibrate ${key}: ${c.copyCosines.length} planted copies, cosine with their source min ${q(0)}, median ${q(0.5)}; ${c.distinctPairs} pairs of distinct originals, highest ${c.distinctMax.toFixed(3)}`,
      );
      this.ctx.out(
        `suggested: --threshold ${c.threshold.toFixed(2)} (no distinct pair above it; finds ${(100 * c.recall).toFixed(1)}% of the planted copies)`,
      );
    } finally {
      await model?.release();
    }
  }

  async cluster(): Promise<void> {
    const pool = await readPool(this.store);
    const gemm = await this.gemm(pool.meta.embeddingDim);
    const shard = this.shard();
    if (this.v.fit && (this.v.merge || shard.count > 1))
      throw new UsageError("--fit trains once; give it without --shard or --merge", {
        flag: "--fit",
      });
    if (this.v.merge) {
      const n = mergedShardCount(
        this.v.shard,
        await this.store.names(),
        "cluster_part_",
        "cluster",
      );
      const rows = await mergeClusters(this.store, pool, n);
      this.ctx.out(
        `cluster --merge: ${n} parts -> ${rows} kept images labelled (table "${CLUSTERS}")`,
      );
      return;
    }
    if (shard.count > 1) {
      const n = await assignClusterPart(this.store, pool, gemm, shard);
      this.ctx.out(`cluster ${shard.index}/${shard.count}: ${n} kept images assigned`);
      return;
    }
    const kept = await keptIds(this.store);
    const ks =
      this.v.levels === undefined ? defaultLevels(kept.length) : parseLevels(this.v.levels);
    const bar = createProgressBar({ total: ks.length, label: "cluster", unit: "level" });
    const opts = {
      init: choiceFlag(this.v.init, "init", ["kmeans++", "random"] as const),
      spherical: this.v.spherical,
      iterations: intFlag(this.v.iterations, "iterations", { min: 1 }),
      restarts: intFlag(this.v.restarts, "restarts", { min: 1 }),
      maxPointsPerCentroid: intFlag(this.v["max-points-per-centroid"], "max-points-per-centroid", {
        min: 1,
      }),
      seed: intFlag(this.v.seed, "seed", { min: 0 }),
    };
    if (this.v.fit) {
      await fitClusters(this.store, pool, gemm, ks, opts, (l) => bar.update(l + 1));
      bar.finish();
      this.ctx.out(
        `cluster --fit: levels of [${ks.join(", ")}] clusters trained on ${kept.length} kept images; next: \`cluster --shard I/N\` per worker, then \`cluster --merge\``,
      );
      return;
    }
    await clusterStage(this.store, pool, gemm, ks, opts, (l) => bar.update(l + 1));
    bar.finish();
    this.ctx.out(
      `cluster: ${kept.length} kept images into levels of [${ks.join(", ")}] clusters (table "${CLUSTERS}")`,
    );
  }

  /** Stages that run once: `--shard` with N > 1 is refused, saying why and what to run. */
  private oneProcess(stage: string, why: string): void {
    if (parseShard(this.v.shard, process.env).count > 1)
      throw new UsageError(`curate ${stage} runs in one process: ${why}`, {
        flag: "--shard",
        hint: `run \`dinov2 curate ${stage}\` once (without --shard) after the sharded stages' --merge`,
      });
  }

  async sample(): Promise<void> {
    this.oneProcess(
      "sample",
      "it reads only the cluster labels (seconds for millions of images); a split would cost more than it saves",
    );
    const pool = await readPool(this.store);
    const budget = intFlag(req(this.v.budget, "budget", "sample"), "budget", { min: 1 });
    const n = await sampleStage(this.store, pool, budget, intFlag(this.v.seed, "seed", { min: 0 }));
    this.ctx.out(`sample: ${n} images balanced over the hierarchy (table "sampled")`);
  }

  async retrieve(): Promise<void> {
    const pool = await readPool(this.store);
    const kept = await keptIds(this.store);
    const shard = this.shard();
    const opts = {
      mode: choiceFlag(this.v.mode, "mode", ["sample", "cluster", "both"] as const),
      perQuery: intFlag(this.v["per-query"], "per-query", { min: 1 }),
      perCluster: intFlag(this.v["per-cluster"], "per-cluster", { min: 1 }),
      minQueries: 3,
      cap: intFlag(this.v.cap, "cap", { min: 1 }),
      seed: intFlag(this.v.seed, "seed", { min: 0 }),
    };
    if (this.v.merge) {
      if (this.v.curated !== undefined)
        throw new UsageError("--merge combines finished parts; give it without --curated", {
          flag: "--merge",
        });
      const n = mergedShardCount(
        this.v.shard,
        await this.store.names(),
        "retrieve_queries_",
        "retrieve",
      );
      const r = await mergeRetrieve(this.store, pool, kept, opts, n);
      this.ctx.out(
        `retrieve --merge: ${n} parts -> ${r.retrieved} images (${r.bySample} sample-based, ${r.byCluster} more from ${r.clustersSelected} clusters) (table "retrieved")`,
      );
      return;
    }
    const curated = req(this.v.curated, "curated", "retrieve");
    const all = (await listImageInputs([curated])).files;
    const fileIndex = new Map(all.map((f, i) => [f, i]));
    const files = all.filter((_, i) => ownsRow(shard, i));
    const { embedder, meta } = await this.embedder();
    let queries: { paths: string[]; embeddings: Float32Array; index: Int32Array };
    try {
      checkCompatible("pool", pool.meta, { ...meta, ...descriptorMeta(pool.meta) });
      const f = await featurize(files, embedder);
      for (const r of f.rejects) log(`--curated: skipped ${r.path}: ${r.reason}`);
      const dim = embedder.dim;
      const embeddings = new Float32Array(f.rows.length * dim);
      f.rows.forEach((r, i) => {
        embeddings.set(r.embedding, i * dim);
      });
      queries = {
        paths: f.rows.map((r) => r.path),
        embeddings,
        index: Int32Array.from(f.rows, (r) => fileIndex.get(r.path)!),
      };
    } finally {
      await embedder.release();
    }
    const gemm = await this.gemm(pool.meta.embeddingDim);
    const kind = resolveAnn(choiceFlag(this.v.ann, "ann", ANN_MODES), kept.length);
    let search: Search | undefined;
    if (kind !== "exact") {
      const dim = pool.meta.embeddingDim;
      log(`retrieve: building a LanceDB ${kind} index over ${kept.length} kept embeddings`);
      search = await indexedSearch(
        this.store,
        shard.count === 1 ? "kept" : `kept_${shardTag(shard)}`,
        kind,
        unitEmbeddings(pool, kept),
        dim,
      );
      const sample = normalizeRows(
        queries.embeddings.slice(0, Math.min(50, queries.paths.length) * dim),
        dim,
      );
      const k = Math.min(intFlag(this.v["per-query"], "per-query", { min: 1 }), kept.length);
      const recall = await annRecall(gemm, search, unitEmbeddings(pool, kept), sample, k);
      this.ctx.out(
        `retrieve: ${kind} recall@${k} against exact search on ${sample.length / dim} queries: ${recall.toFixed(3)}`,
      );
    }
    const o = { ...opts, ...(search ? { search } : {}) };
    const p = await retrievePart(this.store, pool, kept, queries, gemm, o, shard);
    if (shard.count > 1) {
      this.ctx.out(
        `retrieve ${shard.index}/${shard.count}: ${p.queries} curated queries, ${p.hits} nearest-neighbour hits`,
      );
      return;
    }
    const r = await mergeRetrieve(this.store, pool, kept, o, 1);
    this.ctx.out(
      `retrieve: ${r.retrieved} images for ${queries.paths.length} curated queries (${r.bySample} sample-based, ${r.byCluster} more from ${r.clustersSelected} clusters) (table "retrieved")`,
    );
  }

  async export(): Promise<void> {
    const out = req(this.v.output, "output", "export");
    const shard = this.shard();
    if (!this.v.merge && shard.count > 1) {
      const n = await exportPart(this.store, this.v.from, out, shard);
      this.ctx.out(`export ${shard.index}/${shard.count}: ${n} links written`);
      return;
    }
    const e = this.v.merge
      ? await mergeExport(this.store, this.v.from, out)
      : await exportStage(this.store, this.v.from, out);
    this.ctx.out(
      `export: ${e.files} images from "${e.table}" -> ${e.listPath} and ${e.imagesDir} (dinov2 train --data ${e.imagesDir})`,
    );
  }

  async report(): Promise<void> {
    this.oneProcess(
      "report",
      "it draws one page from samples of every table, a few hundred thumbnails in all",
    );
    const out = resolve(req(this.v.output, "output", "report"));
    const r = await reportStage(this.store, { out });
    this.ctx.out(`report: ${r.sections} sections -> ${out}`);
  }

  async run(): Promise<void> {
    const out = req(this.v.output, "output", "run");
    await this.embed();
    await this.dedup();
    await this.cluster();
    if (this.v.curated !== undefined) await this.retrieve();
    else if (this.v.budget !== undefined) await this.sample();
    const e = await exportStage(this.store, undefined, out);
    this.ctx.out(`export: ${e.files} images from "${e.table}" -> ${e.imagesDir}`);
    const r = await reportStage(this.store, { out: resolve(out, "report.html") });
    this.ctx.out(`report: ${r.sections} sections -> ${resolve(out, "report.html")}`);
    this.ctx.out(`next: dinov2 train --data ${e.imagesDir} --output-dir runs/curated`);
  }

  async release(): Promise<void> {
    for (const g of this.gemmCache.values()) await (await g).release();
  }
}

/** The pool's descriptor record, for comparing embeddings only. */
function descriptorMeta(m: PoolMeta): Pick<PoolMeta, "descriptor" | "descriptorDim"> {
  return m.descriptor ? { descriptor: m.descriptor, descriptorDim: m.descriptorDim! } : {};
}
