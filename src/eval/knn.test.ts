import { describe, expect, it } from "vitest";
import { fewShotRows, knnEval, knnFewShot, nearestNeighbours } from "./knn.js";
import type { FeatureSet } from "./metrics.js";

function set(rows: number[][], labels: number[]): FeatureSet {
  return {
    features: Float32Array.from(rows.flat()),
    labels: Int32Array.from(labels),
    dim: rows[0]!.length,
  };
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

// Query (1, 0); neighbours at cosine 0.9 (class 0) and 0.5, 0.5 (class 1).
const s = Math.sqrt(1 - 0.81);
const TRAIN = set(
  [
    [0.9, s],
    [0.5, Math.sqrt(0.75)],
    [0.5, -Math.sqrt(0.75)],
  ],
  [0, 1, 1],
);
const VAL = set([[1, 0]], [0]);

describe("knnEval", () => {
  it("weights neighbours by softmax(sim / T): a sharp T lets the closest neighbour outvote two", () => {
    // T = 0.07: e^(0.9/0.07) ≫ 2 e^(0.5/0.07); T = 1: e^0.9 = 2.46 < 2 e^0.5 = 3.30.
    const sharp = knnEval(TRAIN, VAL, { ks: [1, 3], temperature: 0.07 });
    const flat = knnEval(TRAIN, VAL, { ks: [1, 3], temperature: 1 });
    expect(sharp.top1).toEqual({ 1: 1, 3: 1 });
    expect(flat.top1).toEqual({ 1: 1, 3: 0 });
    expect(flat.top5).toEqual({ 1: 1, 3: 1 });
  });

  it("L2-normalises the features first: scaling rows changes nothing", () => {
    const scaled = set(
      [
        [90, 100 * s],
        [0.005, 0.01 * Math.sqrt(0.75)],
        [0.5, -Math.sqrt(0.75)],
      ],
      [0, 1, 1],
    );
    const val = set([[3, 0]], [0]);
    expect(knnEval(scaled, val, { ks: [1, 3], temperature: 1 })).toEqual(
      knnEval(TRAIN, VAL, { ks: [1, 3], temperature: 1 }),
    );
  });

  it("top-5 counts a label ranked 3rd but not one ranked 7th; ties rank the lower class first", () => {
    const eye = Array.from({ length: 7 }, (_, c) =>
      Array.from({ length: 7 }, (_, d) => (c === d ? 1 : 0)),
    );
    const train = set(eye, [0, 1, 2, 3, 4, 5, 6]);
    const val = set(
      [
        [7, 6, 5, 4, 3, 2, 1],
        [7, 6, 5, 4, 3, 2, 1],
      ],
      [2, 6],
    );
    const r = knnEval(train, val, { ks: [1, 7], temperature: 0.07 });
    expect(r.top1).toEqual({ 1: 0, 7: 0 });
    // k = 1: only class 0 scores; class 2 is behind 0 and the tied 1, class 6 behind six.
    expect(r.top5).toEqual({ 1: 0.5, 7: 0.5 });
  });

  it("matches the official formula written naively on random data", () => {
    const rnd = lcg(17);
    const dim = 6;
    const mk = (n: number) =>
      set(
        Array.from({ length: n }, () => Array.from({ length: dim }, () => rnd() * 2 - 1)),
        Array.from({ length: n }, () => Math.floor(rnd() * 8)),
      );
    const train = mk(301);
    const val = mk(71);
    const ks = [1, 5, 10, 20];
    const got = knnEval(train, val, { ks, temperature: 0.1, numClasses: 8 });
    expect(got).toEqual(naiveKnn(train, val, ks, 0.1, 8));
  });

  it("rejects k larger than the train set", () => {
    expect(() => knnEval(TRAIN, VAL, { ks: [10] })).toThrowErrorMatchingInlineSnapshot(
      `[ShapeError: knnEval: ks must be integers in [1, 3] (the train size); got [10]]`,
    );
  });

  it("rejects features whose length is not labels × dim", () => {
    const bad = { ...VAL, features: new Float32Array(3) };
    expect(() => knnEval(TRAIN, bad, { ks: [1] })).toThrowErrorMatchingInlineSnapshot(
      `[ShapeError: knnEval: val features have 3 values; got 1 labels × dim 2, expected 2]`,
    );
  });
});

describe("nearestNeighbours", () => {
  it("returns cosine similarities best first, ties keeping the lower train index", () => {
    const train = Float32Array.from([0, 2, 1, 0, 0, 5, 3, 3]);
    const nb = nearestNeighbours(train, 4, Float32Array.from([0, 1]), 1, 2, 3);
    expect(Array.from(nb.indices)).toEqual([0, 2, 3]);
    expect(Array.from(nb.sims).map((v) => +v.toFixed(6))).toEqual([1, 1, +Math.SQRT1_2.toFixed(6)]);
  });

  it("equals a sort of all similarities across block boundaries", () => {
    const rnd = lcg(5);
    const dim = 9;
    const nTrain = 530;
    const nVal = 133;
    const train = Float32Array.from({ length: nTrain * dim }, () => rnd() - 0.5);
    const val = Float32Array.from({ length: nVal * dim }, () => rnd() - 0.5);
    const nb = nearestNeighbours(train, nTrain, val, nVal, dim, 7);
    const unit = (x: Float32Array, r: number) => {
      const row = Array.from(x.subarray(r * dim, (r + 1) * dim));
      const n = Math.hypot(...row);
      return row.map((v) => v / n);
    };
    for (let i = 0; i < nVal; i += 11) {
      const q = unit(val, i);
      const all = Array.from({ length: nTrain }, (_, j) => ({
        j,
        sim: unit(train, j).reduce((acc, v, d) => acc + v * q[d]!, 0),
      })).sort((a, b) => b.sim - a.sim);
      expect(Array.from(nb.indices.subarray(i * 7, i * 7 + 7))).toEqual(
        all.slice(0, 7).map((e) => e.j),
      );
      nb.sims.subarray(i * 7, i * 7 + 7).forEach((v, n) => {
        expect(v).toBeCloseTo(all[n]!.sim, 5);
      });
    }
  });
});

/** dinov2's KnnModule.forward, literally: softmax over max_k, onehot * w, cumulative sums per k. */
function naiveKnn(train: FeatureSet, val: FeatureSet, ks: number[], t: number, classes: number) {
  const dim = train.dim;
  const norm = (x: Float32Array, r: number) => {
    const row = Array.from(x.subarray(r * dim, (r + 1) * dim));
    const n = Math.hypot(...row);
    return row.map((v) => v / n);
  };
  const trainRows = Array.from({ length: train.labels.length }, (_, j) => norm(train.features, j));
  const maxK = Math.max(...ks);
  const top1: Record<number, number> = {};
  const top5: Record<number, number> = {};
  for (const k of ks) {
    top1[k] = 0;
    top5[k] = 0;
  }
  for (let i = 0; i < val.labels.length; i++) {
    const q = norm(val.features, i);
    const sims = trainRows.map((row, j) => ({ j, sim: row.reduce((a, v, d) => a + v * q[d]!, 0) }));
    const top = sims.sort((a, b) => b.sim - a.sim).slice(0, maxK);
    const ex = top.map((e) => Math.exp(e.sim / t));
    const z = ex.reduce((a, b) => a + b, 0);
    for (const k of ks) {
      const score = new Array<number>(classes).fill(0);
      for (let j = 0; j < k; j++) score[train.labels[top[j]!.j]!]! += ex[j]! / z;
      const y = val.labels[i]!;
      const rank = score.filter((v, c) => v > score[y]! || (v === score[y]! && c < y)).length;
      if (rank < 1) top1[k]! += 1;
      if (rank < 5) top5[k]! += 1;
    }
  }
  for (const k of ks) {
    top1[k] = top1[k]! / val.labels.length;
    top5[k] = top5[k]! / val.labels.length;
  }
  return { top1, top5 };
}

describe("few-shot k-NN (knn.py n_per_class / n_tries)", () => {
  // Class c (0..2) has 5 train rows, r = 0..4, at angle c·π/2 + r·0.01: near (1,0), (0,1), (-1,0).
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let r = 0; r < 5; r++) {
    for (let c = 0; c < 3; c++) {
      rows.push([Math.cos((c * Math.PI) / 2 + r * 0.01), Math.sin((c * Math.PI) / 2 + r * 0.01)]);
      labels.push(c);
    }
  }
  const train = set(rows, labels);

  it("draws n distinct rows of every class (all of a smaller class), classes in label order", () => {
    const small = set([...rows, [1, 1]], [...labels, 3]);
    const picked = fewShotRows(small.labels, 2, 0);
    expect(Array.from(picked, (r) => small.labels[r])).toEqual([0, 0, 1, 1, 2, 2, 3]);
    expect(new Set(picked).size).toBe(7);
    // Another seed draws other rows of at least one class; the same seed the same rows.
    expect(Array.from(fewShotRows(small.labels, 2, 0))).toEqual(Array.from(picked));
    const draws = [1, 2, 3].map((t) => Array.from(fewShotRows(small.labels, 2, t)).join());
    expect(draws.some((d) => d !== Array.from(picked).join())).toBe(true);
  });

  it("scores every try on its own filtered train set", () => {
    // Queries at the class directions: with 1 neighbour per class the nearest is always right.
    const val = set(
      [
        [1, 0],
        [0, 1],
        [-1, 0],
      ],
      [0, 1, 2],
    );
    const tries = knnFewShot(train, val, 1, 3, { ks: [1, 2, 10], temperature: 0.07 });
    expect(tries.map((t) => t.seed)).toEqual([0, 1, 2]);
    for (const t of tries) {
      expect(t.trainRows).toBe(3);
      expect(Object.keys(t.result.top1)).toEqual(["1", "2"]); // k = 10 > 3 rows is left out
      expect(t.result.top1[1]).toBe(1);
    }
  });

  it("refuses when every k exceeds the few-shot train set", () => {
    const val = set([[1, 0]], [0]);
    expect(() => knnFewShot(train, val, 1, 1, { ks: [10] })).toThrow(
      /every k in \[10\] exceeds the 3 train rows of 1 per class/,
    );
  });
});
