// The curation stages' throughput: embed (images/s through the whole stage: read, hash, decode,
// pHash, ViT-S/14 at 224 px with random weights, LanceDB commit), dedup (exact k = 64 search over
// N pHash descriptors on the graph core), and k-means (Lloyd iterations, N×384 → K). Each figure
// is paired with the plain matmul rate of the same runtime measured in the same run, so a busy
// machine shows as a low baseline too, and k-means is run by FAISS on the same data (written to a
// temporary .npy), thread count and iteration count in the same run when Debian's python3 imports
// faiss. Sizes come from CURATE_BENCH_{EMBED,DEDUP,KMEANS_N,KMEANS_K,KMEANS_ITERS,THREADS};
// CURATE_BENCH_ISSUE=1 sets the issue's sizes (dedup 100k, k-means 1M×384 → 10k, 2 iterations).
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
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
import { pythonWith } from "../test/helpers/torch-python.js";
import type { Bench } from "./harness.js";

const ISSUE_SIZES: Readonly<Record<string, number>> = {
  DEDUP: 100_000,
  KMEANS_N: 1_000_000,
  KMEANS_K: 10_000,
  KMEANS_ITERS: 2,
};

const env = (name: string, fallback: number): number =>
  Number(
    process.env[`CURATE_BENCH_${name}`] ??
      (process.env.CURATE_BENCH_ISSUE === "1" ? ISSUE_SIZES[name] : undefined) ??
      fallback,
  );

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

export const bench: Bench = {
  provider: "cpu",
  question:
    "How fast do curate embed, dedup and k-means run on this machine, next to its plain matmul rate?",
  run: async ({ log }) => {
    let peakRss = 0;
    const sampleRss = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    const threads = env("THREADS", availableParallelism());
    const rt = await createRuntime({ threads });
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
    const gemm = await CurateGemm.create(dim, { rowBlock: 1024, threads });
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

    // k-means: `iters` Lloyd iterations (random init, no subsampling) and the final assignment of
    // every point; FAISS does the same work (train with niter = iters, then one search).
    const [n, k, iters] = [env("KMEANS_N", 100_000), env("KMEANS_K", 1000), env("KMEANS_ITERS", 5)];
    const x = new Float32Array(n * 384);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const npy = join(dir, "kmeans-x.npy");
    writeNpy(npy, x, [n, 384]);
    const rssBefore = process.memoryUsage().rss;
    let kmeansPeak = rssBefore;
    const poll = setInterval(() => {
      kmeansPeak = Math.max(kmeansPeak, process.memoryUsage().rss);
    }, 100);
    const g = await CurateGemm.create(384, { rowBlock: 4096, threads });
    const loadKmeans = loadavg()[0]!;
    const t2 = performance.now();
    const r = await kmeans(g, x, {
      k,
      iterations: iters,
      init: "random",
      maxPointsPerCentroid: Math.ceil(n / k) + 1,
      onIteration: (it, obj) => {
        sampleRss();
        log(
          `  k-means iteration ${it}: ${((performance.now() - t2) / 1000).toFixed(1)} s, objective ${obj.toExponential(4)}`,
        );
      },
    });
    const kmeansS = (performance.now() - t2) / 1000;
    clearInterval(poll);
    kmeansPeak = Math.max(kmeansPeak, process.memoryUsage().rss);
    await g.release();
    sampleRss();
    const gflopPerIter = (2 * n * k * 384) / 1e9;
    const perIter = kmeansS / (r.iterations + 1);
    log(
      `k-means ${n}x384 -> ${k}: ${r.iterations} iterations + final assignment in ${kmeansS.toFixed(1)} s (${(gflopPerIter / perIter).toFixed(1)} GFLOP/s), peak RSS ${mib(kmeansPeak)} MiB`,
    );
    const faiss = runFaiss(npy, k, r.iterations, threads, log);
    rmSync(npy, { force: true });
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
      kmeans_iterations_timed: r.iterations,
      kmeans_total_s: kmeansS,
      kmeans_peak_rss_mib: mib(kmeansPeak),
      kmeans_data_mib: mib(x.byteLength),
      ...(n === 1e6 && k === 1e4
        ? {}
        : {
            kmeans_1m_10k_s_per_iteration_extrapolated: (perIter * (1e6 * 1e4)) / (n * k),
          }),
      faiss_kmeans_s_per_iteration:
        typeof faiss === "string" ? faiss : faiss.total_s / (r.iterations + 1),
      ...(typeof faiss === "string"
        ? {}
        : {
            kmeans_time_vs_faiss: perIter / (faiss.total_s / (r.iterations + 1)),
            kmeans_objective_vs_faiss: r.objective / faiss.objective,
            faiss_kmeans_peak_rss_mib: faiss.peak_rss_mib,
            kmeans_peak_rss_vs_faiss: mib(kmeansPeak) / faiss.peak_rss_mib,
          }),
      threads,
      peak_rss_mib: mib(peakRss),
      details: {
        embed_images: files.length,
        embed_model: "vits14 random, 224 px, batch 16",
        dedup_k: 64,
        dedup_edges: edges,
        kmeans_iterations: r.iterations,
        kmeans_objective: r.objective,
        kmeans_loadavg_1m_at_start: loadKmeans,
        faiss: faiss,
      },
    };
  },
};

/** x [rows, cols] float32 as a NumPy .npy file (version 1.0, little-endian, C order). */
function writeNpy(path: string, x: Float32Array, shape: readonly [number, number]): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape[0]}, ${shape[1]}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const pre = Buffer.alloc(10);
  pre.write("\x93NUMPY", 0, "latin1");
  pre.writeUInt8(1, 6);
  pre.writeUInt8(0, 7);
  pre.writeUInt16LE(header.length, 8);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, pre);
    writeSync(fd, Buffer.from(header, "latin1"));
    // In 256 MiB pieces: one write of a 1.5 GB view can be cut short.
    const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    for (let o = 0; o < bytes.length; o += 2 ** 28) writeSync(fd, bytes.subarray(o, o + 2 ** 28));
  } finally {
    closeSync(fd);
  }
}

const FAISS_SCRIPT = `
import json, resource, sys, time
import faiss, numpy as np
path, k, iters, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
faiss.omp_set_num_threads(threads)
x = np.ascontiguousarray(np.load(path))
n, d = x.shape
t0 = time.perf_counter()
km = faiss.Kmeans(d, k, niter=iters, seed=1, max_points_per_centroid=n // k + 2, verbose=False)
km.train(x)
t1 = time.perf_counter()
D, I = km.index.search(x, 1)
t2 = time.perf_counter()
print(json.dumps({"train_s": t1 - t0, "assign_s": t2 - t1, "total_s": t2 - t0,
  "objective": float(D.astype(np.float64).sum()), "faiss": faiss.__version__,
  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
  "iterations": len(km.iteration_stats)}))
`;

interface FaissRun {
  readonly total_s: number;
  readonly train_s: number;
  readonly assign_s: number;
  readonly objective: number;
  readonly peak_rss_mib: number;
  readonly faiss: string;
  readonly loadavg_1m_at_start: number;
}

/** FAISS k-means on the same .npy (same k, iterations, threads), or why it was skipped. */
function runFaiss(
  npy: string,
  k: number,
  iters: number,
  threads: number,
  log: (l: string) => void,
): FaissRun | string {
  const python = pythonWith(["faiss", "numpy"]);
  if (python === undefined) {
    const why = "skipped: no python3 imports faiss and numpy";
    log(`FAISS ${why}`);
    return why;
  }
  const load = loadavg()[0]!;
  const r = spawnSync(
    python,
    ["-c", FAISS_SCRIPT, npy, String(k), String(iters), String(threads)],
    {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    },
  );
  if (r.status !== 0) {
    const why = `skipped: faiss run failed (${r.stderr.trim().split("\n").pop()})`;
    log(`FAISS ${why}`);
    return why;
  }
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Omit<
    FaissRun,
    "loadavg_1m_at_start"
  >;
  log(
    `FAISS ${out.faiss} k-means: ${iters} iterations + assignment in ${out.total_s.toFixed(1)} s, peak RSS ${out.peak_rss_mib} MiB`,
  );
  return { ...out, loadavg_1m_at_start: load };
}
