// The curation stages' throughput: embed (images/s through the whole stage: read, hash, decode,
// pHash, ViT-S/14 at 224 px with random weights, LanceDB commit), dedup (exact k = 64 search over
// N pHash descriptors on the graph core), and k-means (Lloyd iterations, N×384 → K). Each figure
// is paired with the plain matmul rate of the same runtime measured in the same run, so a busy
// machine shows as a low baseline too. Sizes come from CURATE_BENCH_{EMBED,DEDUP,KMEANS_N,
// KMEANS_K,KMEANS_ITERS}; the defaults fit a small shared machine (the 1M×384 → 10k does
// not: see README for the extrapolation).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureMatmulRate } from "../src/cli/matmul-rate.js";
import { embedPart, mergeEmbedParts } from "../src/curate/embed-stage.js";
import { CurateGemm } from "../src/curate/gemm.js";
import { kmeans } from "../src/curate/kmeans.js";
import { exactNeighbours, normalizeRows } from "../src/curate/knn.js";
import { SINGLE } from "../src/curate/shard.js";
import { CurateStore } from "../src/curate/store.js";
import { writeSyntheticPool } from "../src/curate/synthetic-pool.js";
import { createRng } from "../src/data/rng.js";
import { createEmbedder } from "../src/inference/embedder.js";
import { listImageInputs } from "../src/inference/image-inputs.js";
import { createBackbone } from "../src/models/backbone.js";
import { vitOptions } from "../src/models/presets.js";
import { createRuntime } from "../src/runtime/index.js";
import type { Bench } from "./harness.js";

const env = (name: string, fallback: number): number =>
  Number(process.env[`CURATE_BENCH_${name}`] ?? fallback);

export const bench: Bench = {
  provider: "cpu",
  question:
    "How fast do curate embed, dedup and k-means run on this machine, next to its plain matmul rate?",
  run: async ({ log }) => {
    let peakRss = 0;
    const sampleRss = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    const rt = await createRuntime();
    const baseline = await measureMatmulRate(rt, { n: 512, chain: 8, runs: 5 });
    log(`baseline matmul ${baseline.gflops.toFixed(1)} GFLOP/s`);

    // embed
    const nEmbed = env("EMBED", 64);
    const dir = mkdtempSync(join(tmpdir(), "curate-bench-"));
    const pool = await writeSyntheticPool({
      dir,
      originals: nEmbed,
      copies: 0,
      testImages: 0,
      corrupt: false,
      size: 256,
    });
    const { files } = await listImageInputs([pool.poolDir]);
    const store = await CurateStore.open(join(dir, "db"));
    const embedder = await createEmbedder({
      backbone: createBackbone(vitOptions("vits14"), 0),
      imageSize: 224,
      batchSize: 16,
    });
    const t0 = performance.now();
    await embedPart({
      store,
      files,
      embedder,
      meta: { model: "vits14 random", embeddingDim: 384, imageSize: 224 },
      shard: SINGLE,
      chunk: 32,
    });
    await mergeEmbedParts(store);
    const embedS = (performance.now() - t0) / 1000;
    await embedder.release();
    store.close();
    sampleRss();
    log(`embed: ${files.length} images in ${embedS.toFixed(1)} s`);

    // dedup: random ±1 hashes with every 10th a near copy (10 of 255 bits flipped) of the one before.
    const nDedup = env("DEDUP", 20_000);
    const rng = createRng(1);
    const dim = 255;
    const desc = new Float32Array(nDedup * dim);
    for (let i = 0; i < nDedup; i++) {
      for (let d = 0; d < dim; d++) {
        desc[i * dim + d] =
          i % 10 === 9
            ? desc[(i - 1) * dim + d]! * (rng.uniform() < 10 / 255 ? -1 : 1)
            : rng.bernoulli(0.5)
              ? 1
              : -1;
      }
    }
    normalizeRows(desc, dim);
    const gemm = await CurateGemm.create(dim, { rowBlock: 1024 });
    const t1 = performance.now();
    const nb = await exactNeighbours(gemm, desc, desc, {
      k: 64,
      minSim: 0.4,
      queryIds: Int32Array.from({ length: nDedup }, (_, i) => i),
    });
    const dedupS = (performance.now() - t1) / 1000;
    let edges = 0;
    for (const j of nb.indices) if (j >= 0) edges++;
    await gemm.release();
    sampleRss();
    log(
      `dedup: ${nDedup} descriptors in ${dedupS.toFixed(1)} s, ${edges} edges (planted ${2 * Math.floor(nDedup / 10)})`,
    );

    // k-means
    const [n, k, iters] = [env("KMEANS_N", 100_000), env("KMEANS_K", 1000), env("KMEANS_ITERS", 5)];
    const x = new Float32Array(n * 384);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const g = await CurateGemm.create(384, { rowBlock: 4096 });
    const t2 = performance.now();
    const r = await kmeans(g, x, {
      k,
      iterations: iters,
      init: "random",
      maxPointsPerCentroid: Math.ceil(n / k) + 1,
      onIteration: sampleRss,
    });
    const kmeansS = (performance.now() - t2) / 1000;
    await g.release();
    sampleRss();
    const gflopPerIter = (2 * n * k * 384) / 1e9;
    const perIter = kmeansS / (r.iterations + 1);
    log(
      `k-means ${n}x384 -> ${k}: ${r.iterations} iterations in ${kmeansS.toFixed(1)} s (${(gflopPerIter / perIter).toFixed(1)} GFLOP/s)`,
    );
    return {
      baseline_matmul_gflops: baseline.gflops,
      embed_img_s: files.length / embedS,
      dedup_descriptors: nDedup,
      dedup_s: dedupS,
      dedup_gflops_vs_baseline: (2 * nDedup * nDedup * dim) / 1e9 / dedupS / baseline.gflops,
      kmeans_n: n,
      kmeans_k: k,
      kmeans_s_per_iteration: perIter,
      kmeans_gflops_vs_baseline: gflopPerIter / perIter / baseline.gflops,
      kmeans_1m_10k_s_per_iteration_extrapolated: (perIter * (1e6 * 1e4)) / (n * k),
      peak_rss_mib: Math.round(peakRss / 2 ** 20),
      details: {
        embed_images: files.length,
        embed_model: "vits14 random, 224 px, batch 16",
        dedup_k: 64,
        dedup_edges: edges,
        kmeans_iterations: r.iterations,
        kmeans_objective: r.objective,
      },
    };
  },
};
