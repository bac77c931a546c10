// k-means as FAISS runs it (Lloyd iterations on a subsample of at most k × maxPointsPerCentroid
// points, empty clusters re-seeded by splitting a large one, several restarts keeping the lowest
// objective) with k-means++ or random initialisation and a spherical variant (unit centroids,
// cosine assignment). The assignment GEMM runs on our graph core (CurateGemm); the centroid
// update is a JS pass. Hand-written because no maintained JS k-means runs its GEMM on onnxruntime.
import { createRng, type Rng } from "../data/rng.js";
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";

export interface KMeansOptions {
  readonly k: number;
  /** Lloyd iterations (FAISS default 25); stops early when no label changes. */
  readonly iterations?: number;
  readonly init?: "kmeans++" | "random";
  /** Unit-length centroids and cosine assignment (for L2-normalised features). */
  readonly spherical?: boolean;
  readonly seed?: number;
  /** Train on a random subsample of at most k × this many points (FAISS default 256). */
  readonly maxPointsPerCentroid?: number;
  /** Restarts; the run with the lowest objective wins (FAISS `nredo`, default 1). */
  readonly restarts?: number;
  readonly onIteration?: (iteration: number, objective: number) => void;
  /**
   * Assign every input row at the end (default true). False: `labels` is empty and `objective`
   * is the training subsample's; the rows are assigned later (sharded: cluster-stage.ts).
   */
  readonly assign?: boolean;
}

export interface KMeansResult {
  /** [k, D] */
  readonly centroids: Float32Array;
  /** Nearest centroid of every input row (not only the trained subsample). */
  readonly labels: Int32Array;
  /** Σ‖x − c(x)‖² over every input row (spherical: Σ(1 − x·c)), in float64. */
  readonly objective: number;
  readonly iterations: number;
  /** Empty clusters re-seeded by splitting during training. */
  readonly splits: number;
}

const SPLIT_EPS = 1 / 1024;

/** Clusters the rows of `x` [n, D]. */
export async function kmeans(
  gemm: CurateGemm,
  x: Float32Array,
  opts: KMeansOptions,
): Promise<KMeansResult> {
  const dim = gemm.dim;
  const n = x.length / dim;
  const { k } = opts;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new CurateError(
      "k-means",
      `k must be an integer in [1, ${n}] (the number of points); got ${k}`,
    );
  }
  const rng = createRng(opts.seed ?? 0).split("kmeans");
  const maxTrain = k * (opts.maxPointsPerCentroid ?? 256);
  const train = n > maxTrain ? subsample(x, dim, rng.permutation(n).subarray(0, maxTrain)) : x;
  const spherical = opts.spherical ?? false;
  let best:
    | { centroids: Float32Array; objective: number; iterations: number; splits: number }
    | undefined;
  for (let redo = 0; redo < (opts.restarts ?? 1); redo++) {
    const r = rng.split(`redo${redo}`);
    const init =
      (opts.init ?? "kmeans++") === "kmeans++"
        ? await kmeansPlusPlus(gemm, train, k, spherical, r)
        : randomInit(train, dim, k, r);
    const run = await lloyd(
      gemm,
      train,
      init,
      k,
      spherical,
      opts.iterations ?? 25,
      r,
      opts.onIteration,
    );
    if (!best || run.objective < best.objective) best = run;
  }
  if (opts.assign === false) {
    return { ...best!, labels: new Int32Array(0) };
  }
  const { labels } = await gemm.assign(x, n, best!.centroids, k, spherical);
  return {
    centroids: best!.centroids,
    labels,
    objective: exactObjective(x, dim, best!.centroids, labels, spherical),
    iterations: best!.iterations,
    splits: best!.splits,
  };
}

async function lloyd(
  gemm: CurateGemm,
  x: Float32Array,
  init: Float32Array,
  k: number,
  spherical: boolean,
  iterations: number,
  rng: Rng,
  onIteration: KMeansOptions["onIteration"],
): Promise<{ centroids: Float32Array; objective: number; iterations: number; splits: number }> {
  const dim = gemm.dim;
  const n = x.length / dim;
  let centroids = init;
  let prev: Int32Array | undefined;
  let objective = Number.POSITIVE_INFINITY;
  let splits = 0;
  let it = 0;
  for (; it < iterations; it++) {
    const { labels, scores } = await gemm.assign(x, n, centroids, k, spherical);
    objective = objectiveOf(x, dim, scores, spherical);
    onIteration?.(it, objective);
    if (prev && labels.every((l, i) => l === prev![i])) break;
    prev = labels;
    const sums = new Float64Array(k * dim);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      counts[c]!++;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += x[i * dim + d]!;
    }
    centroids = new Float32Array(k * dim);
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d]! / counts[c]!;
    }
    splits += splitEmpty(centroids, counts, dim, n, rng);
    if (spherical) normalize(centroids, dim);
  }
  return { centroids, objective, iterations: it, splits };
}

/**
 * FAISS's empty-cluster rule: an empty cluster copies a cluster picked with probability
 * (size − 1)/(n − k), and the two are pushed apart by a relative ±1/1024 on alternate coordinates;
 * the donor's points are split between them.
 */
function splitEmpty(
  centroids: Float32Array,
  counts: Float64Array,
  dim: number,
  n: number,
  rng: Rng,
): number {
  const k = counts.length;
  let splits = 0;
  for (let ci = 0; ci < k; ci++) {
    if (counts[ci] !== 0) continue;
    let cj = 0;
    for (; ; cj = (cj + 1) % k) {
      const p = (counts[cj]! - 1) / (n - k);
      if (rng.uniform() < p) break;
    }
    for (let d = 0; d < dim; d++) {
      const v = centroids[cj * dim + d]!;
      const up = d % 2 === 0;
      centroids[ci * dim + d] = v * (up ? 1 + SPLIT_EPS : 1 - SPLIT_EPS);
      centroids[cj * dim + d] = v * (up ? 1 - SPLIT_EPS : 1 + SPLIT_EPS);
    }
    counts[ci] = Math.floor(counts[cj]! / 2);
    counts[cj]! -= counts[ci]!;
    splits++;
  }
  return splits;
}

/** k distinct rows chosen uniformly. */
function randomInit(x: Float32Array, dim: number, k: number, rng: Rng): Float32Array {
  return subsample(x, dim, rng.permutation(x.length / dim).subarray(0, k));
}

/**
 * k-means++ (Arthur & Vassilvitskii 2007), greedy as scikit-learn: each new centre is the best
 * of 2 + ⌊ln k⌋ candidates drawn ∝ D², the one that lowers the potential most.
 */
async function kmeansPlusPlus(
  gemm: CurateGemm,
  x: Float32Array,
  k: number,
  spherical: boolean,
  rng: Rng,
): Promise<Float32Array> {
  const dim = gemm.dim;
  const n = x.length / dim;
  const trials = 2 + Math.floor(Math.log(k));
  const centres = new Float32Array(k * dim);
  const first = rng.int(0, n);
  centres.set(x.subarray(first * dim, (first + 1) * dim), 0);
  const closest = distancesTo(x, dim, x.subarray(first * dim, (first + 1) * dim), spherical);
  let potential = closest.reduce((a, b) => a + b, 0);
  for (let c = 1; c < k; c++) {
    let bestCand = -1;
    let bestPot = Number.POSITIVE_INFINITY;
    let bestDist: Float64Array | undefined;
    for (let t = 0; t < trials; t++) {
      const cand = drawProportional(closest, potential, rng);
      const d = distancesTo(x, dim, x.subarray(cand * dim, (cand + 1) * dim), spherical);
      let pot = 0;
      for (let i = 0; i < n; i++) {
        if (d[i]! > closest[i]!) d[i] = closest[i]!;
        pot += d[i]!;
      }
      if (pot < bestPot) [bestCand, bestPot, bestDist] = [cand, pot, d];
    }
    centres.set(x.subarray(bestCand * dim, (bestCand + 1) * dim), c * dim);
    closest.set(bestDist!);
    potential = bestPot;
  }
  if (spherical) normalize(centres, dim);
  return centres;
}

function drawProportional(weights: Float64Array, total: number, rng: Rng): number {
  if (!(total > 0)) return rng.int(0, weights.length);
  let r = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

function distancesTo(
  x: Float32Array,
  dim: number,
  c: Float32Array,
  spherical: boolean,
): Float64Array {
  const n = x.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    if (spherical) {
      for (let d = 0; d < dim; d++) s += x[i * dim + d]! * c[d]!;
      out[i] = Math.max(0, 1 - s);
    } else {
      for (let d = 0; d < dim; d++) s += (x[i * dim + d]! - c[d]!) ** 2;
      out[i] = s;
    }
  }
  return out;
}

/** The objective of the final labels, from the differences in float64 (no cancellation). */
function exactObjective(
  x: Float32Array,
  dim: number,
  c: Float32Array,
  labels: Int32Array,
  spherical: boolean,
): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const o = labels[i]! * dim;
    let s = 0;
    if (spherical) {
      for (let d = 0; d < dim; d++) s += x[i * dim + d]! * c[o + d]!;
      total += 1 - s;
    } else {
      for (let d = 0; d < dim; d++) s += (x[i * dim + d]! - c[o + d]!) ** 2;
      total += s;
    }
  }
  return total;
}

/** Σ‖x‖² − 2·score (Euclidean) or Σ(1 − score) (spherical), from the assignment scores. */
function objectiveOf(
  x: Float32Array,
  dim: number,
  scores: Float32Array,
  spherical: boolean,
): number {
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    if (spherical) total += 1 - scores[i]!;
    else {
      let s = 0;
      for (let d = 0; d < dim; d++) s += x[i * dim + d]! ** 2;
      total += Math.max(0, s - 2 * scores[i]!);
    }
  }
  return total;
}

export function subsample(x: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++)
    out.set(x.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), i * dim);
  return out;
}

function normalize(c: Float32Array, dim: number): void {
  for (let r = 0; r < c.length / dim; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += c[r * dim + d]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) c[r * dim + d]! *= inv;
  }
}
