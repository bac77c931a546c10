// Weighted k-NN classification on frozen features. Port of dinov2/eval/knn.py (KnnModule).
// Exact brute force in a blocked JS loop: the protocol's numbers depend on the exact neighbours
// (an approximate index or vector DB would change them), and the queries run once, so an index
// would not pay for itself. The 4×4-blocked loop does 1–3 GFLOP/s on one core: 10k × 10k × 384
// in about a minute, 50k × 50k in 10–25 minutes, with no dependency and O(N·maxK) memory.
import { ShapeError } from "../core/errors.js";
import { createRng } from "../data/rng.js";
import { checkFeatureSet, classCount, type FeatureSet, isInTopK } from "./metrics.js";

export interface KnnOptions {
  /** Neighbour counts to report (dinov2's `nb_knn`; its CLI default is [10, 20, 100, 200]). */
  readonly ks?: readonly number[];
  /** Softmax temperature on the similarities (dinov2 default 0.07). */
  readonly temperature?: number;
  /** Default: max train label + 1, as dinov2. */
  readonly numClasses?: number;
}

export interface KnnResult {
  /** Top-1 accuracy (0..1) for each k. */
  readonly top1: Readonly<Record<number, number>>;
  /** Top-5 accuracy (0..1) for each k. */
  readonly top5: Readonly<Record<number, number>>;
}

/** The nearest `maxK` train rows of every query row, by dot product, best first. */
export interface Neighbours {
  readonly maxK: number;
  readonly sims: Float64Array; // [Nv, maxK]
  readonly indices: Int32Array; // [Nv, maxK]
}

const VAL_BLOCK = 64;
const TRAIN_BLOCK = 256;

/**
 * k-NN accuracy of `val` against `train`: L2-normalised features, cosine similarity, the max(ks)
 * nearest neighbours weighted by softmax(sim / T), class score for k = Σ_{j<k} w_j onehot(y_j).
 * @example knnEval(train, val, { ks: [10, 20] }) // { top1: { 10: 0.71, 20: 0.72 }, top5: {...} }
 */
export function knnEval(train: FeatureSet, val: FeatureSet, opts: KnnOptions = {}): KnnResult {
  const ks = [...(opts.ks ?? [10, 20])].sort((a, b) => a - b);
  const temperature = opts.temperature ?? 0.07;
  const numClasses = opts.numClasses ?? classCount(train.labels);
  const nTrain = checkFeatureSet("knnEval", "train", train, numClasses);
  const nVal = checkFeatureSet("knnEval", "val", val, numClasses);
  if (val.dim !== train.dim) {
    throw new ShapeError("knnEval", `feature dims differ; got train ${train.dim}, val ${val.dim}`);
  }
  const maxK = ks[ks.length - 1] ?? 0;
  if (ks.length === 0 || ks[0]! < 1 || !ks.every(Number.isInteger) || maxK > nTrain) {
    throw new ShapeError(
      "knnEval",
      `ks must be integers in [1, ${nTrain}] (the train size); got [${ks}]`,
    );
  }
  const nb = nearestNeighbours(train.features, nTrain, val.features, nVal, train.dim, maxK);
  const hits1 = new Float64Array(ks.length);
  const hits5 = new Float64Array(ks.length);
  const weights = new Float64Array(maxK);
  const scores = new Float64Array(numClasses);
  for (let i = 0; i < nVal; i++) {
    softmaxInto(nb.sims, i * maxK, maxK, temperature, weights);
    scores.fill(0);
    let next = 0;
    for (let j = 0; j < maxK; j++) {
      scores[train.labels[nb.indices[i * maxK + j]!]!]! += weights[j]!;
      while (next < ks.length && ks[next] === j + 1) {
        const y = val.labels[i]!;
        if (isInTopK(scores, 0, numClasses, y, 1)) hits1[next]!++;
        if (isInTopK(scores, 0, numClasses, y, 5)) hits5[next]!++;
        next++;
      }
    }
  }
  const top1: Record<number, number> = {};
  const top5: Record<number, number> = {};
  ks.forEach((k, n) => {
    top1[k] = nVal === 0 ? 0 : hits1[n]! / nVal;
    top5[k] = nVal === 0 ? 0 : hits5[n]! / nVal;
  });
  return { top1, top5 };
}

/**
 * The `maxK` most similar train rows for each query row (rows L2-normalised first). Ties keep the
 * lower train index first.
 */
export function nearestNeighbours(
  train: Float32Array,
  nTrain: number,
  query: Float32Array,
  nQuery: number,
  dim: number,
  maxK: number,
): Neighbours {
  const t = normalizedPadded(train, nTrain, dim);
  const q = normalizedPadded(query, nQuery, dim);
  const sims = new Float64Array(nQuery * maxK).fill(Number.NEGATIVE_INFINITY);
  const indices = new Int32Array(nQuery * maxK).fill(-1);
  const tile = new Float64Array(VAL_BLOCK * TRAIN_BLOCK);
  for (let q0 = 0; q0 < nQuery; q0 += VAL_BLOCK) {
    const qRows = Math.min(VAL_BLOCK, padTo4(nQuery - q0));
    for (let t0 = 0; t0 < nTrain; t0 += TRAIN_BLOCK) {
      const tRows = Math.min(TRAIN_BLOCK, padTo4(nTrain - t0));
      dotTile(q, q0, qRows, t, t0, tRows, dim, tile);
      for (let i = 0; i < qRows && q0 + i < nQuery; i++) {
        for (let j = 0; j < tRows && t0 + j < nTrain; j++) {
          insertTopK(sims, indices, (q0 + i) * maxK, maxK, tile[i * tRows + j]!, t0 + j);
        }
      }
    }
  }
  return { maxK, sims, indices };
}

/** out[i, j] = q[q0 + i] · t[t0 + j] with a 4×4 register block (rows are padded to 4). */
function dotTile(
  q: Float32Array,
  q0: number,
  qRows: number,
  t: Float32Array,
  t0: number,
  tRows: number,
  dim: number,
  out: Float64Array,
): void {
  for (let i = 0; i < qRows; i += 4) {
    const a0 = (q0 + i) * dim;
    const a1 = a0 + dim;
    const a2 = a1 + dim;
    const a3 = a2 + dim;
    for (let j = 0; j < tRows; j += 4) {
      const b0 = (t0 + j) * dim;
      const b1 = b0 + dim;
      const b2 = b1 + dim;
      const b3 = b2 + dim;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0,
        s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let d = 0; d < dim; d++) {
        const x0 = q[a0 + d]!;
        const x1 = q[a1 + d]!;
        const x2 = q[a2 + d]!;
        const x3 = q[a3 + d]!;
        const y0 = t[b0 + d]!;
        const y1 = t[b1 + d]!;
        const y2 = t[b2 + d]!;
        const y3 = t[b3 + d]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s30 += x3 * y0;
        s31 += x3 * y1;
        s32 += x3 * y2;
        s33 += x3 * y3;
      }
      const o = i * tRows + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + 2] = s02;
      out[o + 3] = s03;
      out[o + tRows] = s10;
      out[o + tRows + 1] = s11;
      out[o + tRows + 2] = s12;
      out[o + tRows + 3] = s13;
      const p = o + 2 * tRows;
      out[p] = s20;
      out[p + 1] = s21;
      out[p + 2] = s22;
      out[p + 3] = s23;
      out[p + tRows] = s30;
      out[p + tRows + 1] = s31;
      out[p + tRows + 2] = s32;
      out[p + tRows + 3] = s33;
    }
  }
}

/** Inserts (sim, index) into the sorted row at `base` if it beats the last; equal sims stay ahead. */
function insertTopK(
  sims: Float64Array,
  idx: Int32Array,
  base: number,
  k: number,
  s: number,
  index: number,
): void {
  if (!(s > sims[base + k - 1]!)) return;
  let p = base + k - 1;
  while (p > base && sims[p - 1]! < s) {
    sims[p] = sims[p - 1]!;
    idx[p] = idx[p - 1]!;
    p--;
  }
  sims[p] = s;
  idx[p] = index;
}

/** softmax(x / T) of x[offset .. offset + n) into out. */
function softmaxInto(
  x: Float64Array,
  offset: number,
  n: number,
  temperature: number,
  out: Float64Array,
): void {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) m = Math.max(m, x[offset + j]! / temperature);
  let z = 0;
  for (let j = 0; j < n; j++) {
    out[j] = Math.exp(x[offset + j]! / temperature - m);
    z += out[j]!;
  }
  for (let j = 0; j < n; j++) out[j]! /= z;
}

/** Rows divided by max(‖row‖, 1e-12) (torch F.normalize), zero rows appended up to a multiple of 4. */
function normalizedPadded(x: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(padTo4(rows) * dim);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += x[r * dim + d]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let d = 0; d < dim; d++) out[r * dim + d] = x[r * dim + d]! * inv;
  }
  return out;
}

function padTo4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** One few-shot try: `nPerClass` train rows per class drawn with seed `seed`. */
export interface FewShotTry {
  readonly nPerClass: number;
  readonly seed: number;
  readonly trainRows: number;
  readonly result: KnnResult;
}

/**
 * dinov2/eval/knn.py's filter_train: for every class present in `labels`, the first `nPerClass`
 * of a seeded random permutation of its rows (all of them when it has fewer), classes in label
 * order. Our seeded RNG stands in for torch.manual_seed(seed) + randperm, so the rows differ from
 * the official ones but follow the same rule.
 */
export function fewShotRows(labels: Int32Array, nPerClass: number, seed: number): Int32Array {
  if (!Number.isInteger(nPerClass) || nPerClass < 1) {
    throw new ShapeError("fewShotRows", `nPerClass must be a positive integer; got ${nPerClass}`);
  }
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const rows = byClass.get(y) ?? [];
    rows.push(i);
    byClass.set(y, rows);
  });
  const rng = createRng(seed).split("knn-few-shot");
  const out: number[] = [];
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(y)!;
    const perm = rng.permutation(rows.length);
    for (let j = 0; j < Math.min(nPerClass, rows.length); j++) out.push(rows[perm[j]!]!);
  }
  return Int32Array.from(out);
}

/**
 * The few-shot protocol: for each try t (seed t), k-NN of `val` against `nPerClass` train rows per
 * class; ks larger than the filtered train set are left out of that try.
 */
export function knnFewShot(
  train: FeatureSet,
  val: FeatureSet,
  nPerClass: number,
  nTries: number,
  opts: KnnOptions = {},
): FewShotTry[] {
  if (!Number.isInteger(nTries) || nTries < 1) {
    throw new ShapeError("knnFewShot", `nTries must be a positive integer; got ${nTries}`);
  }
  const numClasses = opts.numClasses ?? classCount(train.labels);
  return Array.from({ length: nTries }, (_, seed) => {
    const rows = fewShotRows(train.labels, nPerClass, seed);
    const features = new Float32Array(rows.length * train.dim);
    rows.forEach((r, i) => {
      features.set(train.features.subarray(r * train.dim, (r + 1) * train.dim), i * train.dim);
    });
    const labels = Int32Array.from(rows, (r) => train.labels[r]!);
    const ks = (opts.ks ?? [10, 20]).filter((k) => k <= rows.length);
    if (ks.length === 0) {
      throw new ShapeError(
        "knnFewShot",
        `every k in [${opts.ks ?? [10, 20]}] exceeds the ${rows.length} train rows of ${nPerClass} per class`,
        { hint: "lower the ks or raise nPerClass" },
      );
    }
    const result = knnEval({ features, labels, dim: train.dim }, val, { ...opts, ks, numClasses });
    return { nPerClass, seed, trainRows: rows.length, result };
  });
}
