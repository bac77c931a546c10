// Linear probe on frozen features, after dinov2/eval/linear.py: the grid n_last_blocks ∈ {1, 4} ×
// avgpool ∈ {off, on} × 13 learning rates, every head trained at once in ONE graph (Σ of their
// cross-entropies) and one ORT run per step: SGD momentum 0.9, no weight decay, cosine schedule to
// 0 over all iterations, lr × batch / 256, weight ~ N(0, 0.01²), bias 0; the sampler is an
// infinite stream of seeded permutations (SHARDED_INFINITE). The best head on val top-1 is reported.
// Features come cached (rows of probe-features.ts's layout) or, with an AugmentedSource, are
// recomputed every step from augmented pixels by the frozen backbone inside the same graph.
import {
  add,
  concat,
  grad,
  type HostTensor,
  hostTensor,
  input,
  logSoftmax,
  matmul,
  mul,
  neg,
  ShapeError,
  slice,
  sub,
  sum,
  type Tensor,
} from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import { InitRng } from "../nn/init.js";
import { bindConstants } from "../nn/module.js";
import type { Runtime } from "../runtime/index.js";
import { checkFeatureSet, classCount, type FeatureSet, topKAccuracy } from "./metrics.js";
import {
  type HeadConfig,
  headConfigs,
  headName,
  type ProbeLayout,
  probeColumns,
  probeFeatureHead,
  probeWidth,
} from "./probe-features.js";

/** dinov2/eval/linear.py's learning rates (before the batch / 256 scaling). */
export const LINEAR_LEARNING_RATES: readonly number[] = [
  1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,
];

export interface LinearProbeOptions {
  readonly learningRates?: readonly number[];
  /** SGD steps (dinov2: epochs 10 × epoch_length 1250). */
  readonly iterations?: number;
  /** dinov2: 128 per GPU; the learning rate is scaled by batchSize / 256. */
  readonly batchSize?: number;
  readonly momentum?: number;
  /** Default: max train label + 1. */
  readonly numClasses?: number;
  /** Seeds the head initialisation and the sample order. */
  readonly seed?: number;
  /** Column layout of the feature rows; default: one block of `dim` columns, no avgpool. */
  readonly layout?: ProbeLayout;
  /** Called after every step with the step index and the summed loss of all heads. */
  readonly onStep?: (step: number, loss: number) => void;
}

/** Train pixels for `--augment`: features recomputed every step by the frozen backbone. */
export interface AugmentedSource {
  readonly backbone: Backbone;
  readonly imageSize: number;
  /** Number of train samples; rows are drawn from [0, count). */
  readonly count: number;
  /** Augmented, normalised pixels [rows.length, 3, S, S] of these samples, with their labels. */
  load(rows: Int32Array): Promise<{ readonly images: Float32Array; readonly labels: Int32Array }>;
}

export interface ProbeHead extends HeadConfig {
  readonly lr: number;
  /** dinov2's classifier name, e.g. "classifier_4_blocks_avgpool_True_lr_0_00100". */
  readonly name: string;
  readonly top1: number;
  readonly top5: number;
}

export interface LinearProbeResult {
  /** Val top-1 / top-5 (0..1) of the best head on val top-1, the figure dinov2 reports. */
  readonly top1: number;
  readonly top5: number;
  readonly best: ProbeHead;
  /** Kept for callers of the learning-rate-only probe. */
  readonly bestLr: number;
  readonly heads: readonly ProbeHead[];
  /** The best head: logits = features[:, cols] · weight + bias; weight [width, numClasses]. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  /** The summed training loss of all heads at each step. */
  readonly losses: readonly number[];
  /** Every head's own training loss at each step, [steps][heads] in `heads` order. */
  readonly headLosses: readonly Float32Array[];
}

/** Trains every head of the grid on `train` and reports the best on `val`. */
export async function linearProbe(
  runtime: Runtime,
  train: FeatureSet | AugmentedSource,
  val: FeatureSet,
  opts: LinearProbeOptions = {},
): Promise<LinearProbeResult> {
  const lrs = opts.learningRates ?? LINEAR_LEARNING_RATES;
  const iterations = opts.iterations ?? 12_500;
  const momentum = opts.momentum ?? 0.9;
  const cached = "features" in train;
  const layout = opts.layout ?? { embedDim: val.dim, blocks: 1, avgpool: false };
  const width = probeWidth(layout);
  const numClasses =
    opts.numClasses ?? classCount(cached ? train.labels : (val.labels as Int32Array));
  const nTrain = cached
    ? checkFeatureSet("linearProbe", "train", train, numClasses)
    : (train as AugmentedSource).count;
  const nVal = checkFeatureSet("linearProbe", "val", val, numClasses);
  if ((cached && train.dim !== width) || val.dim !== width) {
    throw new ShapeError(
      "linearProbe",
      `feature rows must be ${width} wide for the layout ${JSON.stringify(layout)}; got train ${cached ? train.dim : "pixels"}, val ${val.dim}`,
    );
  }
  if (nTrain === 0 || nVal === 0 || lrs.length === 0 || !(iterations >= 1)) {
    throw new ShapeError(
      "linearProbe",
      `need non-empty train and val, some learning rates and iterations ≥ 1; got train ${nTrain}, val ${nVal}, ${lrs.length} learning rates, ${iterations} iterations`,
    );
  }
  const batch = opts.batchSize ?? 128;
  const configs = headConfigs(layout);
  const dims: GridDims = { configs, lrs, batch, classes: numClasses, layout };
  const x = cached ? input("x", [batch, width]) : augmentedRows(train as AugmentedSource, batch);
  const step = await runtime.compile(trainStepGraph(x, dims, momentum));
  const state = initHeads(dims, opts.seed ?? 0);
  const sampler = infiniteSampler(nTrain, (opts.seed ?? 0) + 1);
  const losses: number[] = [];
  const headLosses: Float32Array[] = [];
  for (let t = 0; t < iterations; t++) {
    const rows = sampler(batch);
    const cosine = 0.5 * (1 + Math.cos((Math.PI * t) / iterations));
    const lr = lrs.map((base) => (base * batch * cosine) / 256);
    const feeds = cached
      ? { x: gatherRows(train.features, rows, width), y: oneHot(train.labels, rows, numClasses) }
      : await augmentedFeeds(train as AugmentedSource, rows, batch, numClasses);
    const out = await step.run({
      ...feeds,
      lr: hostTensor("float32", [lrs.length, 1, 1], lr),
      ...state,
    });
    const loss = (out.loss!.data as Float32Array)[0]!;
    losses.push(loss);
    headLosses.push((out.headLoss!.data as Float32Array).slice());
    for (const k of Object.keys(state)) state[k] = out[`new.${k}`]!;
    opts.onStep?.(t, loss);
  }
  const heads = await evaluateHeads(runtime, dims, state, val);
  const best = heads.reduce((b, h, i) => (h.top1 > heads[b]!.top1 ? i : b), 0);
  const g = Math.floor(best / lrs.length);
  const l = best % lrs.length;
  const w = state[`w${g}`]!;
  const size = w.shape[1]! * numClasses;
  return {
    top1: heads[best]!.top1,
    top5: heads[best]!.top5,
    best: heads[best]!,
    bestLr: heads[best]!.lr,
    heads,
    weight: (w.data as Float32Array).slice(l * size, (l + 1) * size),
    bias: (state[`b${g}`]!.data as Float32Array).slice(l * numClasses, (l + 1) * numClasses),
    losses,
    headLosses,
  };
}

interface GridDims {
  readonly configs: readonly HeadConfig[];
  readonly lrs: readonly number[];
  readonly batch: number;
  readonly classes: number;
  readonly layout: ProbeLayout;
}

type HeadState = Record<string, HostTensor>;

/** The feature rows of a batch of augmented images, computed by the frozen backbone. */
function augmentedRows(src: AugmentedSource, batch: number): Tensor {
  bindConstants(src.backbone.model, src.backbone.weights);
  const images = input("images", [
    batch,
    src.backbone.options.inChans,
    src.imageSize,
    src.imageSize,
  ]);
  const blocks = Math.min(4, src.backbone.options.depth);
  return probeFeatureHead(blocks)(src.backbone.model, images).x!;
}

async function augmentedFeeds(
  src: AugmentedSource,
  rows: Int32Array,
  batch: number,
  classes: number,
): Promise<Record<string, HostTensor>> {
  const { images, labels } = await src.load(rows);
  const shape = [batch, src.backbone.options.inChans, src.imageSize, src.imageSize];
  return {
    images: hostTensor("float32", shape, images),
    y: oneHot(labels, Int32Array.from(labels.keys()), classes),
  };
}

/** One SGD-momentum step of every head: Σ_heads mean CE(x[:, cols] W_h + b_h, y), torch's rule. */
function trainStepGraph(x: Tensor, d: GridDims, momentum: number): Record<string, Tensor> {
  const y = input("y", [d.batch, d.classes]);
  const lr = input("lr", [d.lrs.length, 1, 1]);
  const out: Record<string, Tensor> = {};
  const perHead: Tensor[] = [];
  const ws: Tensor[] = [];
  const bs: Tensor[] = [];
  d.configs.forEach((c, g) => {
    const [start, width] = probeColumns(d.layout, c);
    const w = input(`w${g}`, [d.lrs.length, width, d.classes]);
    const b = input(`b${g}`, [d.lrs.length, 1, d.classes]);
    const logits = add(matmul(slice(x, 1, start, start + width), w), b); // [L, B, C]
    perHead.push(mul(neg(sum(mul(y, logSoftmax(logits, -1)), [1, 2])), 1 / d.batch)); // [L]
    ws.push(w);
    bs.push(b);
  });
  const headLoss = concat(perHead, 0); // [G·L]
  const loss = sum(headLoss);
  const grads = grad(loss, [...ws, ...bs]);
  d.configs.forEach((_, g) => {
    for (const [name, p, gp] of [
      [`w${g}`, ws[g]!, grads[g]!],
      [`b${g}`, bs[g]!, grads[d.configs.length + g]!],
    ] as const) {
      const m = add(mul(input(`m${name}`, p.shape), momentum), gp);
      out[`new.${name}`] = sub(p, mul(lr, m));
      out[`new.m${name}`] = m;
    }
  });
  return { loss, headLoss, ...out };
}

/** Top-1 / top-5 of every head on `val`, logits computed by one graph over padded batches. */
async function evaluateHeads(
  runtime: Runtime,
  d: GridDims,
  state: HeadState,
  val: FeatureSet,
): Promise<ProbeHead[]> {
  const n = val.labels.length;
  const rows = Math.min(d.batch, n);
  const x = input("x", [rows, val.dim]);
  const outputs: Record<string, Tensor> = {};
  d.configs.forEach((c, g) => {
    const [start, width] = probeColumns(d.layout, c);
    const w = input(`w${g}`, [d.lrs.length, width, d.classes]);
    outputs[`logits${g}`] = add(
      matmul(slice(x, 1, start, start + width), w),
      input(`b${g}`, [d.lrs.length, 1, d.classes]),
    );
  });
  const exe = await runtime.compile(outputs);
  const heads = d.configs.length * d.lrs.length;
  const scores = Array.from({ length: heads }, () => new Float32Array(n * d.classes));
  const weights = Object.fromEntries(
    Object.entries(state).filter(([k]) => k.startsWith("w") || k.startsWith("b")),
  );
  for (let at = 0; at < n; at += rows) {
    const xb = new Float32Array(rows * val.dim);
    const take = Math.min(rows, n - at);
    xb.set(val.features.subarray(at * val.dim, (at + take) * val.dim));
    const out = await exe.run({ x: hostTensor("float32", [rows, val.dim], xb), ...weights });
    d.configs.forEach((_, g) => {
      const logits = out[`logits${g}`]!.data as Float32Array; // [L, rows, C]
      for (let l = 0; l < d.lrs.length; l++) {
        const from = l * rows * d.classes;
        scores[g * d.lrs.length + l]!.set(
          logits.subarray(from, from + take * d.classes),
          at * d.classes,
        );
      }
    });
  }
  return scores.map((s, h) => {
    const c = d.configs[Math.floor(h / d.lrs.length)]!;
    const lr = d.lrs[h % d.lrs.length]!;
    return {
      ...c,
      lr,
      name: headName(c, lr),
      top1: topKAccuracy(s, val.labels, d.classes, 1),
      top5: topKAccuracy(s, val.labels, d.classes, 5),
    };
  });
}

/** dinov2's head init: weight ~ N(0, 0.01²), bias 0; momentum buffers 0. */
function initHeads(d: GridDims, seed: number): HeadState {
  const rng = new InitRng(seed);
  const state: HeadState = {};
  d.configs.forEach((c, g) => {
    const wShape = [d.lrs.length, probeColumns(d.layout, c)[1], d.classes];
    const bShape = [d.lrs.length, 1, d.classes];
    const w = hostTensor("float32", wShape);
    for (let i = 0; i < w.data.length; i++) w.data[i] = rng.normal() * 0.01;
    state[`w${g}`] = w;
    state[`b${g}`] = hostTensor("float32", bShape);
    state[`mw${g}`] = hostTensor("float32", wShape);
    state[`mb${g}`] = hostTensor("float32", bShape);
  });
  return state;
}

/** Batches cut from an endless stream of seeded permutations of [0, n) (an infinite sampler). */
export function infiniteSampler(n: number, seed: number): (batch: number) => Int32Array {
  const rng = new InitRng(seed);
  let order = permutation(n, rng);
  let cursor = 0;
  return (batch) => {
    const rows = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      if (cursor === n) {
        order = permutation(n, rng);
        cursor = 0;
      }
      rows[i] = order[cursor++]!;
    }
    return rows;
  };
}

function permutation(n: number, rng: InitRng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function gatherRows(features: Float32Array, rows: Int32Array, dim: number): HostTensor {
  const x = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    x.set(features.subarray(r * dim, (r + 1) * dim), i * dim);
  });
  return hostTensor("float32", [rows.length, dim], x);
}

function oneHot(labels: Int32Array, rows: Int32Array, classes: number): HostTensor {
  const y = new Float32Array(rows.length * classes);
  rows.forEach((r, i) => {
    y[i * classes + labels[r]!] = 1;
  });
  return hostTensor("float32", [rows.length, classes], y);
}
