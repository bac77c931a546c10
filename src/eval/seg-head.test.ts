// BNHead against torch: the training loss (batch statistics, bilinear upsampling, CE with
// ignore_index), the running statistics after one step, and the eval-mode logits.
import { describe, expect, it } from "vitest";
import { randomValues, testRuntime } from "../../test/helpers/op-check.js";
import { hostTensor, input, toNumbers } from "../core/index.js";
import type { DenseCache } from "./dense-features.js";
import { RowStore } from "./row-store.js";
import { segHeadLogits, segTrainLoss, trainSegHead } from "./seg-head.js";

// Expected values: `python3 test/reference/dense_eval_reference.py` (torch 1.13, float64), which does
//   x = randomValues(24, 21).reshape(2,3,2,2); bn = nn.BatchNorm2d(3) with weight [1.5,.5,-1],
//   bias [.1,-.2,.3]; conv = nn.Conv2d(3,3,1) with weight randomValues(9, 22), bias [.05,-.1,.2];
//   bn.train(); up = F.interpolate(conv(bn(x)), size=(4,4), mode="bilinear", align_corners=False)
//   F.cross_entropy(up, labels, ignore_index=255, reduction="none").mean()  -> TRAIN_LOSS
//   bn.running_mean / running_var after that forward; bn.eval(); conv(bn(x)) -> EVAL_LOGITS
const TRAIN_LOSS = 1.4606304520801578;
const RUNNING_MEAN = [-0.04170533154974692, -0.021366810327162967, 0.024843700643396006];
const RUNNING_VAR = [0.9297614967436426, 0.9488614751744099, 0.9214131691337183];
const EVAL_LOGITS = [
  1.7164933066, 0.5048686041, 1.4490104103, -1.2205776646, -1.1980524775, -0.1629735967,
  -0.5730487803, 0.6752383678, -1.3278831005, -0.3413221884, -0.9689021841, 1.4660218623,
  -0.2840611803, 0.7586926347, 1.4313023484, 0.8573438028, 0.1637868817, -0.3854076656,
  -0.7545219491, -0.6080334536, 0.1465332331, -0.1512369492, -1.3393507209, -1.0150251124,
];
const LABELS = [
  0, 1, 2, 255, 1, 1, 2, 0, 0, 0, 255, 2, 2, 1, 0, 1, 1, 2, 0, 0, 255, 255, 1, 2, 0, 1, 1, 2, 2, 2,
  0, 1,
];
const GAMMA = [1.5, 0.5, -1.0];
const BETA = [0.1, -0.2, 0.3];
const CONV_B = [0.05, -0.1, 0.2];

describe("BNHead", () => {
  it("training loss and batch statistics match torch", async () => {
    const rt = await testRuntime();
    const x = input("x", [2, 3, 2, 2], "float64");
    const labels = input("labels", [2, 4, 4], "float64");
    const p = {
      gamma: input("gamma", [3], "float64"),
      beta: input("beta", [3], "float64"),
      w: input("w", [3, 3], "float64"),
      b: input("b", [3], "float64"),
    };
    const r = segTrainLoss(x, labels, p, 3);
    const exe = await rt.compile({ loss: r.loss, mean: r.batchMean, variance: r.batchVar });
    const f64 = (shape: number[], v: readonly number[]) => hostTensor("float64", shape, v);
    const out = await exe.run({
      x: f64([2, 3, 2, 2], randomValues(24, 21)),
      labels: f64([2, 4, 4], LABELS),
      gamma: f64([3], GAMMA),
      beta: f64([3], BETA),
      w: f64([3, 3], randomValues(9, 22)),
      b: f64([3], CONV_B),
    });
    expect(toNumbers(out.loss!)[0]).toBeCloseTo(TRAIN_LOSS, 10);
    // torch: running = 0.9 · init (0, 1) + 0.1 · (mean, unbiased var over n = 8 values).
    const mean = toNumbers(out.mean!);
    const variance = toNumbers(out.variance!);
    mean.forEach((m, c) => {
      expect(0.1 * m).toBeCloseTo(RUNNING_MEAN[c]!, 10);
    });
    variance.forEach((v, c) => {
      expect(0.9 + (0.1 * v * 8) / 7).toBeCloseTo(RUNNING_VAR[c]!, 10);
    });
  });

  it("eval-mode logits (running statistics folded in) match torch", async () => {
    const rt = await testRuntime();
    const logits = segHeadLogits(input("x", [2, 3, 2, 2]), {
      channels: 3,
      numClasses: 3,
      bnWeight: Float32Array.from(GAMMA),
      bnBias: Float32Array.from(BETA),
      runningMean: Float32Array.from(RUNNING_MEAN),
      runningVar: Float32Array.from(RUNNING_VAR),
      convWeight: Float32Array.from(randomValues(9, 22)),
      convBias: Float32Array.from(CONV_B),
    });
    const exe = await rt.compile({ logits });
    const out = await exe.run({ x: hostTensor("float32", [2, 3, 2, 2], randomValues(24, 21)) });
    toNumbers(out.logits!).forEach((v, i) => {
      expect(v).toBeCloseTo(EVAL_LOGITS[i]!, 5);
    });
  });

  it("the training loop fits features that carry the labels (11 classes, 90% background)", async () => {
    // Every 14×14 patch of a 28×28 image is one class (background with probability 0.9, as in the
    // synthetic set, else one of 10 shapes); its feature is the one-hot of that class plus noise.
    // A linear head must fit this exactly; one that learns only the class prior gets 10/11 of the
    // classes wrong. Guards the loop itself: row sampling, targets aligned with features, the
    // AdamW state carried between steps, the schedule.
    const rt = await testRuntime();
    const [K, S, grid, n] = [11, 28, 2, 256];
    const shape = randomValues(n * grid * grid, 7, 0, 10);
    const classes = randomValues(n * grid * grid, 5, 0, 1).map((u, i) =>
      u < 0.9 ? 0 : 1 + Math.floor(shape[i]!),
    );
    const noise = randomValues(n * K * grid * grid, 6, -0.3, 0.3);
    const features = RowStore.create(K * grid * grid);
    const targets = RowStore.create(S * S);
    for (let im = 0; im < n; im++) {
      const f = new Float32Array(K * grid * grid);
      const t = new Float32Array(S * S);
      for (let p = 0; p < grid * grid; p++) {
        const c = classes[im * grid * grid + p]!;
        for (let k = 0; k < K; k++)
          f[k * grid * grid + p] = (k === c ? 1 : 0) + noise[(im * K + k) * grid * grid + p]!;
        const [py, px] = [Math.floor(p / grid), p % grid];
        for (let y = 0; y < 14; y++)
          t.fill(c, (py * 14 + y) * S + px * 14, (py * 14 + y) * S + px * 14 + 14);
      }
      features.append(f);
      targets.append(t);
    }
    const cache: DenseCache = {
      features,
      targets,
      count: n,
      channels: K,
      grid,
      side: S,
      release: () => {
        features.release();
        targets.release();
      },
    };
    try {
      const { params, losses } = await trainSegHead(rt, cache, {
        numClasses: K,
        iterations: 400,
        batchSize: 8,
        lr: 0.05,
        warmupIterations: 4,
      });
      const exe = await rt.compile({
        logits: segHeadLogits(input("x", [n, K, grid, grid]), params),
      });
      const logits = toNumbers(
        (
          await exe.run({
            x: hostTensor(
              "float32",
              [n, K, grid, grid],
              features.read(Array.from({ length: n }, (_, i) => i)),
            ),
          })
        ).logits!,
      );
      let wrongShapes = 0;
      let shapes = 0;
      for (let im = 0; im < n; im++) {
        for (let p = 0; p < grid * grid; p++) {
          const scores = Array.from(
            { length: K },
            (_, k) => logits[(im * K + k) * grid * grid + p]!,
          );
          const c = classes[im * grid * grid + p]!;
          if (c === 0) continue;
          shapes++;
          if (scores.indexOf(Math.max(...scores)) !== c) wrongShapes++;
        }
      }
      expect(shapes).toBeGreaterThan(60);
      expect(new Set(classes).size).toBe(K);
      expect(wrongShapes).toBe(0);
      // The loss falls well below the class prior's entropy (0.9 background, 0.01 each shape:
      // −0.9 ln 0.9 − 0.1 ln 0.01 = 0.555).
      expect(losses.slice(-10).reduce((a, b) => a + b, 0) / 10).toBeLessThan(0.3);
    } finally {
      cache.release();
    }
  });
});
