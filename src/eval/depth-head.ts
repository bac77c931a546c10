// Linear depth: the official BNHead of dinov2/eval/depth (classify=True, 256 uniform bins, "linear"
// norm: relu(logit) + 0.1 normalised over bins, depth = Σ p_k · bin_k, ×4 bilinear upsampling)
// on frozen [patch map, CLS] features, trained with SigLoss (+ optional GradientLoss) on cached
// features with AdamW and the poly schedule, one ORT run per step. The 1×1 conv is applied before
// the ×4 upsampling: both are linear and the bilinear weights sum to 1, so this equals the
// official order (upsample the C-channel features, then convolve) at a fraction of the cost.
import {
  add,
  constant,
  div,
  grad,
  type HostTensor,
  hostTensor,
  input,
  matmul,
  maximum,
  minimum,
  mul,
  reshape,
  resizeBilinear,
  sum,
  type Tensor,
} from "../core/index.js";
import { InitRng } from "../nn/init.js";
import type { Runtime } from "../runtime/index.js";
import { adamwUpdate } from "../train/optimizer.js";
import type { DenseCache } from "./dense-features.js";
import { gradientLoss, sigLoss, validDepthMask } from "./depth-losses.js";
import { headAdamw, headAdamwFeeds } from "./head-schedule.js";

export interface DepthRange {
  /** Bins run from minDepth to maxDepth (NYU 0.001–10, KITTI 0.001–80). */
  readonly minDepth: number;
  readonly maxDepth: number;
}

export interface DepthHeadOptions extends DepthRange {
  readonly iterations: number;
  readonly batchSize: number;
  readonly lr?: number;
  readonly weightDecay?: number;
  readonly warmupIterations?: number;
  /** SigLoss's warm-up form for the first N iterations (official option, 100 when on). */
  readonly sigWarmupIterations?: number;
  /** Weight of MegaDepth's GradientLoss added to SigLoss (0: off). */
  readonly gradientLossWeight?: number;
  readonly seed?: number;
  readonly onStep?: (t: number, loss: number) => void;
}

export interface DepthHeadParams extends DepthRange {
  readonly channels: number;
  readonly bins: number;
  /** conv_depth.weight [bins, C] (1×1), conv_depth.bias [bins]. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

export interface DepthHeadResult {
  readonly params: DepthHeadParams;
  readonly losses: readonly number[];
}

export const DEPTH_BINS = 256;

/** Trains the linear depth head on a feature cache whose targets are depths in metres. */
export async function trainDepthHead(
  runtime: Runtime,
  cache: DenseCache,
  opts: DepthHeadOptions,
): Promise<DepthHeadResult> {
  const { channels: C, grid: h, side: S } = cache;
  const B = opts.batchSize;
  const range = { minDepth: opts.minDepth, maxDepth: opts.maxDepth };
  const exe = await runtime.compile(
    trainStepGraph(B, C, h, S, range, opts.weightDecay ?? 1e-4, opts.gradientLossWeight ?? 0),
  );
  const rng = new InitRng(opts.seed ?? 0);
  const bound = 1 / Math.sqrt(C); // torch Conv2d default init: U(±1/sqrt(fan_in))
  const uniform = (n: number) =>
    Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
  let state: Record<string, HostTensor> = {
    w: hostTensor("float32", [DEPTH_BINS, C], uniform(DEPTH_BINS * C)),
    b: hostTensor("float32", [DEPTH_BINS], uniform(DEPTH_BINS)),
    "m.w": hostTensor("float32", [DEPTH_BINS, C]),
    "v.w": hostTensor("float32", [DEPTH_BINS, C]),
    "m.b": hostTensor("float32", [DEPTH_BINS]),
    "v.b": hostTensor("float32", [DEPTH_BINS]),
  };
  const sched = {
    base: opts.lr ?? 1e-3,
    iterations: opts.iterations,
    warmupIterations: opts.warmupIterations ?? 0,
  };
  const x = new Float32Array(B * cache.features.rowLength);
  const y = new Float32Array(B * cache.targets.rowLength);
  const losses: number[] = [];
  try {
    for (let t = 0; t < opts.iterations; t++) {
      const rows = Array.from({ length: B }, () => Math.floor(rng.uniform() * cache.count));
      const out = await exe.run({
        x: hostTensor("float32", [B, C, h, h], cache.features.read(rows, x)),
        gt: hostTensor("float32", [B, S, S], cache.targets.read(rows, y)),
        ...headAdamwFeeds(t, sched),
        warmup: hostTensor("float32", [], [t < (opts.sigWarmupIterations ?? 0) ? 1 : 0]),
        ...state,
      });
      const loss = (out.loss!.data as Float32Array)[0]!;
      losses.push(loss);
      opts.onStep?.(t, loss);
      state = Object.fromEntries(Object.keys(state).map((k) => [k, out[`new.${k}`]!]));
    }
  } finally {
    await exe.release();
  }
  return {
    params: {
      ...range,
      channels: C,
      bins: DEPTH_BINS,
      weight: state.w!.data as Float32Array,
      bias: state.b!.data as Float32Array,
    },
    losses,
  };
}

/**
 * The head's depth [B, 4h, 4w] from features [B, C, h, w]: 1×1 conv to bins, ×4 bilinear,
 * relu + 0.1 normalised over bins, expectation over uniform bins.
 */
export function depthFromFeatures(x: Tensor, w: Tensor, b: Tensor, range: DepthRange): Tensor {
  const [B, C, h, wd] = x.shape as [number, number, number, number];
  const k = w.shape[0]!;
  const logits = reshape(add(matmul(w, reshape(x, [B, C, h * wd])), reshape(b, [k, 1])), [
    B,
    k,
    h,
    wd,
  ]);
  const up = resizeBilinear(logits, 4 * h, 4 * wd);
  const positive = add(maximum(up, 0), 0.1);
  const p = div(positive, sum(positive, 1, { keepDims: true }));
  const bins = Array.from(
    { length: k },
    (_, i) => range.minDepth + ((range.maxDepth - range.minDepth) * i) / (k - 1),
  );
  const binT = constant(
    hostTensor(x.dtype === "float64" ? "float64" : "float32", [1, k, 1, 1], bins),
  );
  return sum(mul(p, binT), 1); // [B, 4h, 4w]
}

/** Inference: depth clamped to [min, max] and resized to S×S, parameters as constants. */
export function depthPrediction(x: Tensor, p: DepthHeadParams, side: number): Tensor {
  const w = constant(hostTensor("float32", [p.bins, p.channels], p.weight));
  const b = constant(hostTensor("float32", [p.bins], p.bias));
  const d = depthFromFeatures(x, w, b, p);
  const clamped = minimum(maximum(d, p.minDepth), p.maxDepth);
  return resizeBilinear(clamped, side, side);
}

function trainStepGraph(
  B: number,
  C: number,
  h: number,
  S: number,
  range: DepthRange,
  weightDecay: number,
  gradWeight: number,
): Record<string, Tensor> {
  const x = input("x", [B, C, h, h]);
  const gt = input("gt", [B, S, S]);
  const w = input("w", [DEPTH_BINS, C]);
  const b = input("b", [DEPTH_BINS]);
  const pred = resizeBilinear(depthFromFeatures(x, w, b, range), S, S);
  const mask = validDepthMask(gt, range.maxDepth);
  let loss = sigLoss(pred, gt, mask, input("warmup", []));
  if (gradWeight > 0) loss = add(loss, mul(gradientLoss(pred, gt, mask), gradWeight));
  const [gw, gb] = grad(loss, [w, b]);
  const hyper = headAdamw(weightDecay);
  const out: Record<string, Tensor> = { loss };
  for (const [name, param, g] of [
    ["w", w, gw!],
    ["b", b, gb!],
  ] as const) {
    const s = adamwUpdate(
      { param, m: input(`m.${name}`, param.shape), v: input(`v.${name}`, param.shape) },
      g,
      hyper,
    );
    out[`new.${name}`] = s.param;
    out[`new.m.${name}`] = s.m;
    out[`new.v.${name}`] = s.v;
  }
  return out;
}
