// Linear probe on frozen features, after dinov2/eval/linear.py: one linear head per learning rate,
// all trained at once in one graph (Σ of their cross-entropies), SGD momentum 0.9, cosine to 0.
import {
  add,
  grad,
  type HostTensor,
  hostTensor,
  input,
  logSoftmax,
  matmul,
  mul,
  neg,
  ShapeError,
  sub,
  sum,
  type Tensor,
} from "../core/index.js";
import { InitRng } from "../nn/init.js";
import type { Executable, Runtime } from "../runtime/index.js";
import { checkFeatureSet, classCount, type FeatureSet, topKAccuracy } from "./metrics.js";

export interface LinearProbeOptions {
  /** Base learning rates, one head each (dinov2: 13 values 1e-5 … 0.1; paper App. B.3: 1e-4 … 0.5). */
  readonly learningRates?: readonly number[];
  /** SGD steps (dinov2: 10 epochs × 1250). */
  readonly iterations?: number;
  /** dinov2: 128 per GPU. The learning rate is scaled by batchSize / 256, as dinov2 does. */
  readonly batchSize?: number;
  readonly momentum?: number;
  /** Default: max train label + 1. */
  readonly numClasses?: number;
  /** Seeds the head initialisation and the sample order. */
  readonly seed?: number;
}

export interface ProbeHead {
  readonly lr: number;
  readonly top1: number;
  readonly top5: number;
}

export interface LinearProbeResult {
  /** Val top-1 / top-5 (0..1) of the best head on val top-1, the figure dinov2 reports. */
  readonly top1: number;
  readonly top5: number;
  readonly bestLr: number;
  readonly heads: readonly ProbeHead[];
  /** The best head: logits = features · weight + bias; weight [dim, numClasses]. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  /** The summed training loss of all heads at each step. */
  readonly losses: readonly number[];
}

/** Trains linear heads on `train` for every learning rate and reports the best on `val`. */
export async function linearProbe(
  runtime: Runtime,
  train: FeatureSet,
  val: FeatureSet,
  opts: LinearProbeOptions = {},
): Promise<LinearProbeResult> {
  const lrs = opts.learningRates ?? [1e-4, 1e-3, 1e-2, 0.1, 0.5];
  const iterations = opts.iterations ?? 1250;
  const momentum = opts.momentum ?? 0.9;
  const numClasses = opts.numClasses ?? classCount(train.labels);
  const nTrain = checkFeatureSet("linearProbe", "train", train, numClasses);
  const nVal = checkFeatureSet("linearProbe", "val", val, numClasses);
  const dim = train.dim;
  if (val.dim !== dim || nTrain === 0 || nVal === 0 || lrs.length === 0) {
    throw new ShapeError(
      "linearProbe",
      `need non-empty train and val of one dim and some learning rates; got train ${nTrain}×${dim}, val ${nVal}×${val.dim}, ${lrs.length} learning rates`,
    );
  }
  const batch = Math.min(opts.batchSize ?? 128, nTrain);
  const dims = { heads: lrs.length, batch, dim, classes: numClasses };
  const step = await runtime.compile(trainStepGraph(dims, momentum));
  const state = initHeads(dims, opts.seed ?? 0);
  const rng = new InitRng((opts.seed ?? 0) + 1);
  let order = permutation(nTrain, rng);
  let cursor = 0;
  const losses: number[] = [];
  for (let t = 0; t < iterations; t++) {
    if (cursor + batch > nTrain) {
      order = permutation(nTrain, rng);
      cursor = 0;
    }
    const rows = order.subarray(cursor, cursor + batch);
    cursor += batch;
    const cosine = 0.5 * (1 + Math.cos((Math.PI * t) / iterations));
    const lr = lrs.map((base) => (base * batch * cosine) / 256);
    const out = await step.run({
      x: gatherRows(train.features, rows, dim),
      y: oneHot(train.labels, rows, numClasses),
      lr: hostTensor("float32", [lrs.length, 1, 1], lr),
      ...state,
    });
    losses.push((out.loss!.data as Float32Array)[0]!);
    for (const k of Object.keys(state) as (keyof typeof state)[]) state[k] = out[`new.${k}`]!;
  }
  const heads = await evaluateHeads(runtime, dims, state, val, lrs);
  const best = heads.reduce((b, h, i) => (h.top1 > heads[b]!.top1 ? i : b), 0);
  const size = dim * numClasses;
  return {
    top1: heads[best]!.top1,
    top5: heads[best]!.top5,
    bestLr: lrs[best]!,
    heads,
    weight: (state.w.data as Float32Array).slice(best * size, (best + 1) * size),
    bias: (state.b.data as Float32Array).slice(best * numClasses, (best + 1) * numClasses),
    losses,
  };
}

interface ProbeDims {
  readonly heads: number;
  readonly batch: number;
  readonly dim: number;
  readonly classes: number;
}

type HeadState = Record<"w" | "b" | "mw" | "mb", HostTensor>;

/** One SGD-momentum step of every head: Σ_heads mean CE(x W_h + b_h, y), torch.optim.SGD rule. */
function trainStepGraph(d: ProbeDims, momentum: number): Record<string, Tensor> {
  const x = input("x", [d.batch, d.dim]);
  const y = input("y", [d.batch, d.classes]);
  const lr = input("lr", [d.heads, 1, 1]);
  const w = input("w", [d.heads, d.dim, d.classes]);
  const b = input("b", [d.heads, 1, d.classes]);
  const logits = add(matmul(x, w), b); // [B, D] @ [L, D, C] -> [L, B, C]
  const loss = mul(neg(sum(mul(y, logSoftmax(logits, -1)))), 1 / d.batch);
  const [gw, gb] = grad(loss, [w, b]);
  const mw = add(mul(input("mw", w.shape), momentum), gw!);
  const mb = add(mul(input("mb", b.shape), momentum), gb!);
  return {
    loss,
    "new.w": sub(w, mul(lr, mw)),
    "new.b": sub(b, mul(lr, mb)),
    "new.mw": mw,
    "new.mb": mb,
  };
}

/** Top-1 / top-5 of every head on `val`, logits computed by a graph over padded batches. */
async function evaluateHeads(
  runtime: Runtime,
  d: ProbeDims,
  state: HeadState,
  val: FeatureSet,
  lrs: readonly number[],
): Promise<ProbeHead[]> {
  const n = val.labels.length;
  const rows = Math.min(d.batch, n);
  const w = input("w", [d.heads, d.dim, d.classes]);
  const exe: Executable = await runtime.compile({
    logits: add(matmul(input("x", [rows, d.dim]), w), input("b", [d.heads, 1, d.classes])),
  });
  const scores = lrs.map(() => new Float32Array(n * d.classes));
  for (let at = 0; at < n; at += rows) {
    const x = new Float32Array(rows * d.dim);
    const take = Math.min(rows, n - at);
    x.set(val.features.subarray(at * d.dim, (at + take) * d.dim));
    const out = await exe.run({
      x: hostTensor("float32", [rows, d.dim], x),
      w: state.w,
      b: state.b,
    });
    const logits = out.logits!.data as Float32Array; // [L, rows, C]
    scores.forEach((s, h) => {
      const from = h * rows * d.classes;
      s.set(logits.subarray(from, from + take * d.classes), at * d.classes);
    });
  }
  return lrs.map((lr, h) => ({
    lr,
    top1: topKAccuracy(scores[h]!, val.labels, d.classes, 1),
    top5: topKAccuracy(scores[h]!, val.labels, d.classes, 5),
  }));
}

/** dinov2's head init: weight ~ N(0, 0.01²), bias 0; momentum buffers 0. */
function initHeads(d: ProbeDims, seed: number): HeadState {
  const rng = new InitRng(seed);
  const wShape = [d.heads, d.dim, d.classes];
  const bShape = [d.heads, 1, d.classes];
  const w = hostTensor("float32", wShape);
  for (let i = 0; i < w.data.length; i++) w.data[i] = rng.normal() * 0.01;
  return {
    w,
    b: hostTensor("float32", bShape),
    mw: hostTensor("float32", wShape),
    mb: hostTensor("float32", bShape),
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
