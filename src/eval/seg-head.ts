// Linear semantic segmentation: the official BNHead (dinov2/eval/segmentation/models/decode_heads/
// linear_head.py: BatchNorm over the concatenated feature maps, then mmseg's cls_seg 1×1 conv),
// logits bilinearly upsampled to the label size and cross-entropy with ignore_index 255, trained
// on cached frozen features with AdamW and the poly schedule, one ORT run per step.
import {
  add,
  cast,
  constant,
  div,
  equal,
  grad,
  type HostTensor,
  hostTensor,
  input,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  reshape,
  resizeBilinear,
  softmax,
  sqrt,
  sub,
  sum,
  type Tensor,
} from "../core/index.js";
import { InitRng } from "../nn/init.js";
import type { Runtime } from "../runtime/index.js";
import { adamwUpdate } from "../train/optimizer.js";
import type { DenseCache } from "./dense-features.js";
import { headAdamw, headAdamwFeeds } from "./head-schedule.js";

export interface SegHeadOptions {
  readonly numClasses: number;
  /** Official: 40,000; the CPU default of the command is smaller. */
  readonly iterations: number;
  /** Official: 2 per GPU × 8 GPUs = 16. */
  readonly batchSize: number;
  /** AdamW (official: lr 1e-3, weight decay 1e-4, betas 0.9 / 0.999). */
  readonly lr?: number;
  readonly weightDecay?: number;
  /** Linear warmup iterations (official 1,500 of 40,000), ratio 1e-6; poly power 1 to 0. */
  readonly warmupIterations?: number;
  readonly seed?: number;
  /** Called after every step with the iteration and its loss. */
  readonly onStep?: (t: number, loss: number) => void;
}

/** BNHead parameters and BatchNorm running statistics (torch names). */
export interface SegHeadParams {
  readonly channels: number;
  readonly numClasses: number;
  /** bn.weight, bn.bias, bn.running_mean, bn.running_var: [C]. */
  readonly bnWeight: Float32Array;
  readonly bnBias: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  /** conv_seg.weight [K, C] (a 1×1 conv), conv_seg.bias [K]. */
  readonly convWeight: Float32Array;
  readonly convBias: Float32Array;
}

export interface SegHeadResult {
  readonly params: SegHeadParams;
  readonly losses: readonly number[];
}

const BN_EPS = 1e-5; // nn.SyncBatchNorm default
const BN_MOMENTUM = 0.1;

/** Trains a BNHead on a feature cache whose targets are class indices (255 = ignore). */
export async function trainSegHead(
  runtime: Runtime,
  cache: DenseCache,
  opts: SegHeadOptions,
): Promise<SegHeadResult> {
  const d = { ...dims(cache, opts.batchSize), classes: opts.numClasses };
  const exe = await runtime.compile(trainStepGraph(d, opts.weightDecay ?? 1e-4));
  let state = initState(d, opts.seed ?? 0);
  const rng = new InitRng((opts.seed ?? 0) + 1);
  const losses: number[] = [];
  const sched = {
    base: opts.lr ?? 1e-3,
    iterations: opts.iterations,
    warmupIterations: opts.warmupIterations ?? 0,
  };
  const x = new Float32Array(d.batch * cache.features.rowLength);
  const y = new Float32Array(d.batch * cache.targets.rowLength);
  try {
    for (let t = 0; t < opts.iterations; t++) {
      const rows = Array.from({ length: d.batch }, () => Math.floor(rng.uniform() * cache.count));
      const out = await exe.run({
        x: hostTensor(
          "float32",
          [d.batch, d.channels, d.grid, d.grid],
          cache.features.read(rows, x),
        ),
        labels: hostTensor("float32", [d.batch, d.side, d.side], cache.targets.read(rows, y)),
        ...headAdamwFeeds(t, sched),
        ...state,
      });
      const loss = (out.loss!.data as Float32Array)[0]!;
      losses.push(loss);
      opts.onStep?.(t, loss);
      state = Object.fromEntries(
        Object.keys(state).map((k) => [k, out[`new.${k}`]!]),
      ) as typeof state;
    }
  } finally {
    await exe.release();
  }
  const f = (k: keyof typeof state) => state[k].data as Float32Array;
  return {
    params: {
      channels: d.channels,
      numClasses: d.classes,
      bnWeight: f("gamma"),
      bnBias: f("beta"),
      runningMean: f("rm"),
      runningVar: f("rv"),
      convWeight: f("w"),
      convBias: f("b"),
    },
    losses,
  };
}

/**
 * BNHead's logits [B, K, h, w] of features x [B, C, h, w] in eval mode (running statistics),
 * the parameters baked in as constants.
 */
export function segHeadLogits(x: Tensor, p: SegHeadParams): Tensor {
  const c = p.channels;
  const k = p.numClasses;
  const t = (data: Float32Array, shape: number[]) => constant(hostTensor("float32", shape, data));
  const scale = p.bnWeight.map((g, i) => g / Math.sqrt(p.runningVar[i]! + BN_EPS));
  const shift = p.bnBias.map((b, i) => b - p.runningMean[i]! * scale[i]!);
  const y = add(mul(x, t(scale, [1, c, 1, 1])), t(shift, [1, c, 1, 1]));
  return conv1x1(y, t(p.convWeight, [k, c]), t(p.convBias, [k]));
}

/** Per-class probabilities [B, K, S, S]: logits upsampled bilinearly, then softmax over classes. */
export function segProbabilities(logits: Tensor, side: number): Tensor {
  return softmax(resizeBilinear(logits, side, side), 1);
}

interface SegDims {
  readonly batch: number;
  readonly channels: number;
  readonly grid: number;
  readonly side: number;
  readonly classes: number;
}

type SegState = Record<
  "gamma" | "beta" | "w" | "b" | "rm" | "rv" | `${"m" | "v"}.${"gamma" | "beta" | "w" | "b"}`,
  HostTensor
>;

function dims(cache: DenseCache, batch: number): Omit<SegDims, "classes"> {
  return { batch, channels: cache.channels, grid: cache.grid, side: cache.side };
}

/** BNHead's trainable tensors: bn.weight, bn.bias [C]; conv_seg weight [K, C] and bias [K]. */
export interface SegHeadTensors {
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly w: Tensor;
  readonly b: Tensor;
}

/**
 * The training forward: BatchNorm with batch statistics, 1×1 conv, logits upsampled to the
 * labels [B, S, S], and mmseg's cross-entropy (ignore_index 255; mean over all pixels, ignored ones
 * counting 0, as avg_non_ignore=False). Also the batch mean and biased variance [C].
 */
export function segTrainLoss(
  x: Tensor,
  labels: Tensor,
  p: SegHeadTensors,
  numClasses: number,
): { loss: Tensor; batchMean: Tensor; batchVar: Tensor } {
  const [B, C] = x.shape as [number, number, number, number];
  const [, S, S2] = labels.shape as [number, number, number];
  const K = numClasses;
  const mu = mean(x, [0, 2, 3], { keepDims: true });
  const xc = sub(x, mu);
  const variance = mean(mul(xc, xc), [0, 2, 3], { keepDims: true });
  const xn = div(xc, sqrt(add(variance, BN_EPS)));
  const y = add(mul(xn, reshape(p.gamma, [1, C, 1, 1])), reshape(p.beta, [1, C, 1, 1]));
  const logits = resizeBilinear(conv1x1(y, p.w, p.b), S, S2); // [B, K, S, S]
  const ks = Array.from({ length: K }, (_, i) => i);
  const classes = constant(
    hostTensor(x.dtype === "float64" ? "float64" : "float32", [1, K, 1, 1], ks),
  );
  const onehot = cast(equal(reshape(labels, [B, 1, S, S2]), classes), x.dtype); // 255: all zero
  const loss = mul(neg(sum(mul(onehot, logSoftmax(logits, 1)))), 1 / (B * S * S2));
  return { loss, batchMean: reshape(mu, [C]), batchVar: reshape(variance, [C]) };
}

/** One AdamW step of the BNHead on mean pixel cross-entropy (mmseg: ignored pixels count as 0). */
function trainStepGraph(d: SegDims, weightDecay: number): Record<string, Tensor> {
  const { batch: B, channels: C, grid: h, side: S, classes: K } = d;
  const x = input("x", [B, C, h, h]);
  const labels = input("labels", [B, S, S]);
  const params = {
    gamma: input("gamma", [C]),
    beta: input("beta", [C]),
    w: input("w", [K, C]),
    b: input("b", [K]),
  };
  const { loss, batchMean, batchVar } = segTrainLoss(x, labels, params, K);
  const names = Object.keys(params) as (keyof typeof params)[];
  const grads = grad(
    loss,
    names.map((n) => params[n]),
  );
  const hyper = headAdamw(weightDecay);
  const out: Record<string, Tensor> = { loss };
  names.forEach((n, i) => {
    const s = adamwUpdate(
      {
        param: params[n],
        m: input(`m.${n}`, params[n].shape),
        v: input(`v.${n}`, params[n].shape),
      },
      grads[i]!,
      hyper,
    );
    out[`new.${n}`] = s.param;
    out[`new.m.${n}`] = s.m;
    out[`new.v.${n}`] = s.v;
  });
  const n = B * h * h;
  const rm = input("rm", [C]);
  const rv = input("rv", [C]);
  out["new.rm"] = add(mul(rm, 1 - BN_MOMENTUM), mul(batchMean, BN_MOMENTUM));
  out["new.rv"] = add(mul(rv, 1 - BN_MOMENTUM), mul(batchVar, (BN_MOMENTUM * n) / (n - 1)));
  return out;
}

/** A 1×1 convolution: w [K, C] · x [B, C, h, w] + b [K]. */
function conv1x1(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const [B, C, h, wd] = x.shape as [number, number, number, number];
  const k = w.shape[0]!;
  const y = add(matmul(w, reshape(x, [B, C, h * wd])), reshape(b, [k, 1]));
  return reshape(y, [B, k, h, wd]);
}

/** mmseg init: BN weight 1, bias 0, running (0, 1); cls_seg normal_init(std 0.01), bias 0. */
function initState(d: SegDims, seed: number): SegState {
  const rng = new InitRng(seed);
  const w = hostTensor("float32", [d.classes, d.channels]);
  for (let i = 0; i < w.data.length; i++) w.data[i] = rng.normal() * 0.01;
  const zeros = (shape: number[]) => hostTensor("float32", shape);
  const ones = (n: number) => hostTensor("float32", [n], new Float32Array(n).fill(1));
  const shapes = {
    gamma: [d.channels],
    beta: [d.channels],
    w: [d.classes, d.channels],
    b: [d.classes],
  };
  const moments = Object.fromEntries(
    Object.entries(shapes).flatMap(([k, s]) => [
      [`m.${k}`, zeros(s)],
      [`v.${k}`, zeros(s)],
    ]),
  );
  return {
    gamma: ones(d.channels),
    beta: zeros([d.channels]),
    w,
    b: zeros([d.classes]),
    rm: zeros([d.channels]),
    rv: ones(d.channels),
    ...moments,
  } as SegState;
}
