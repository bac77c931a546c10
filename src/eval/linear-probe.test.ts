import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { LINEAR_LEARNING_RATES, linearProbe } from "./linear-probe.js";
import type { FeatureSet } from "./metrics.js";
import { headConfigs, headName, probeColumns, probeLayout } from "./probe-features.js";

/**
 * Probe rows of layout {embedDim 2, blocks 4, avgpool}: [CLS_{L-3}, CLS_{L-2}, CLS_{L-1}, CLS_L,
 * mean patch], 2 values each. Two classes; only the 2 columns at `signalAt` carry the label (±2),
 * the rest is noise in [-1, 1].
 */
function gridRows(n: number, signalAt: number, seed: number): FeatureSet {
  let s = seed;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return (2 * s) / 2147483647 - 1;
  };
  const dim = 10;
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let d = 0; d < dim; d++) {
      const signal = d === signalAt || d === signalAt + 1 ? (i % 2 ? 2 : -2) : 0;
      features[i * dim + d] = signal + rnd();
    }
  }
  return { features, labels, dim };
}

/** n points per class around well-separated centres ±3 on one axis each, noise ±0.5. */
function blobs(perClass: number, classes: number, dim: number, seed: number): FeatureSet {
  let s = seed;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  const features = new Float32Array(perClass * classes * dim);
  const labels = new Int32Array(perClass * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let d = 0; d < dim; d++) {
      const centre = d === c >> 1 ? (c % 2 === 0 ? 3 : -3) : 0;
      features[i * dim + d] = centre + rnd();
    }
  }
  return { features, labels, dim };
}

describe("linearProbe", () => {
  it("reaches 100% on linearly separable data, picking a learning rate that trains", async () => {
    const rt = await testRuntime();
    const train = blobs(20, 4, 5, 3);
    const val = blobs(10, 4, 5, 11);
    const r = await linearProbe(rt, train, val, {
      learningRates: [1e-6, 1, 10],
      iterations: 60,
      batchSize: 16,
    });
    expect(r.top1).toBe(1);
    expect(r.top5).toBe(1);
    expect(r.bestLr).not.toBe(1e-6);
    expect(r.heads.map((h) => h.lr)).toEqual([1e-6, 1, 10]);
    expect(r.heads[0]!.top1).toBeLessThan(1);
    expect(r.weight.length).toBe(5 * 4);
    expect(r.bias.length).toBe(4);
    expect(r.losses).toHaveLength(60);
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]! / 2);
  });

  it("feeds each head of the official grid its own columns (n_last_blocks × avgpool)", async () => {
    const rt = await testRuntime();
    const layout = { embedDim: 2, blocks: 4, avgpool: true };
    const learners = async (signalAt: number) => {
      const r = await linearProbe(rt, gridRows(64, signalAt, 5), gridRows(40, signalAt, 9), {
        learningRates: [10],
        iterations: 40,
        batchSize: 16,
        layout,
      });
      return r.heads
        .filter((h) => h.top1 === 1)
        .map((h) => `${h.nBlocks}${h.avgpool ? "+avg" : ""}`);
    };
    // Signal in the mean patch token: only avgpool heads see it.
    expect(await learners(8)).toEqual(["1+avg", "4+avg"]);
    // Signal in the CLS of block L-3: only the 4-block heads see it.
    expect(await learners(0)).toEqual(["4", "4+avg"]);
    // Signal in the last CLS: every head sees it.
    expect(await learners(6)).toEqual(["1", "1+avg", "4", "4+avg"]);
  });

  it("has the official 52-head grid and classifier names", () => {
    const layout = probeLayout(384, 12);
    const configs = headConfigs(layout);
    expect(configs.length * LINEAR_LEARNING_RATES.length).toBe(52);
    expect(configs.map((c) => probeColumns(layout, c))).toEqual([
      [3 * 384, 384],
      [3 * 384, 768],
      [0, 4 * 384],
      [0, 5 * 384],
    ]);
    expect(headName({ nBlocks: 4, avgpool: true }, 1e-3)).toBe(
      "classifier_4_blocks_avgpool_True_lr_0_00100",
    );
    // A 2-block backbone cannot feed n_last_blocks = 4.
    expect(headConfigs(probeLayout(8, 2)).map((c) => c.nBlocks)).toEqual([1, 1]);
  });

  it("steps as torch SGD(momentum 0.9) + CosineAnnealingLR with lr × batch / 256", async () => {
    const rt = await testRuntime();
    const train = {
      features: Float32Array.from([
        1, 0.5, -0.3, 2, 0.7, -1.2, -0.4, 0.1, 1.5, 1.1, -2, 0.3, 0.2, -0.6, 0.9, 0.8,
      ]),
      labels: Int32Array.from([0, 1, 0, 1, 0, 1, 1, 0]),
      dim: 2,
    };
    // lr 0 leaves the seed-0 init: weight [dim, classes] ~ N(0, 0.01²), bias 0.
    const init = await linearProbe(rt, train, train, {
      learningRates: [0],
      iterations: 1,
      batchSize: 8,
    });
    const INIT = [
      -0.01519852690398693, 0.0030220411717891693, -0.000050870490667875856, -0.0054084062576293945,
    ];
    Array.from(init.weight).forEach((w, i) => {
      expect(w).toBeCloseTo(INIT[i]!, 9);
    });
    // Batch = all 8 rows, so the sample order cannot matter. Expected from torch 1.13.1 (CPU):
    //   X, y = the rows and labels above; head = nn.Linear(2, 2), weight = INIT as [dim, classes]
    //   transposed, bias 0; opt = SGD(head.parameters(), lr=5 * 8 / 256, momentum=0.9,
    //   weight_decay=0); sched = CosineAnnealingLR(opt, 3, eta_min=0); 3 × (CrossEntropyLoss()(
    //   head(X), y).backward(); opt.step(); sched.step()); print(head.weight.T.flatten(), head.bias)
    //   (/usr/bin/python3 /tmp/lin.py)
    const r = await linearProbe(rt, train, train, {
      learningRates: [5],
      iterations: 3,
      batchSize: 8,
    });
    const TORCH_W = [
      0.17847011983394623, -0.19064660370349884, -0.01861620880663395, 0.013156932778656483,
    ];
    const TORCH_B = [-0.0011248517548665404, 0.0011248595546931028];
    const TORCH_LOSS = [0.7009114623069763, 0.648332953453064, 0.5841490030288696];
    Array.from(r.weight).forEach((w, i) => {
      expect(w).toBeCloseTo(TORCH_W[i]!, 6);
    });
    Array.from(r.bias).forEach((b, i) => {
      expect(b).toBeCloseTo(TORCH_B[i]!, 7);
    });
    r.losses.forEach((l, i) => {
      expect(l).toBeCloseTo(TORCH_LOSS[i]!, 6);
    });
  });

  it("is deterministic for a seed", async () => {
    const rt = await testRuntime();
    const train = blobs(8, 3, 4, 5);
    const val = blobs(4, 3, 4, 6);
    const opts = { learningRates: [1], iterations: 10, batchSize: 8, seed: 3 };
    const a = await linearProbe(rt, train, val, opts);
    const b = await linearProbe(rt, train, val, opts);
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(a.losses).toEqual(b.losses);
  });

  it("rejects a val label outside the classes", async () => {
    const rt = await testRuntime();
    const train = blobs(2, 2, 2, 1);
    const val = { ...train, labels: Int32Array.from([0, 1, 2, 0]) };
    await expect(linearProbe(rt, train, val)).rejects.toThrowErrorMatchingInlineSnapshot(`
      [ShapeError: linearProbe: val labels[2] is 2; expected a class in [0, 2)
        hint: pass numClasses when the train labels do not contain the largest class]
    `);
  });
});
