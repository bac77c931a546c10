// The depth losses of the official depth code, as graph composites (so gradients come for free):
// SigLoss (dinov2/eval/depth/models/losses/sigloss.py, after AdaBins) and GradientLoss
// (gradientloss.py, after MegaDepth).
import {
  abs,
  add,
  cast,
  constant,
  div,
  gather,
  greater,
  hostTensor,
  lessOrEqual,
  log,
  mul,
  slice,
  sqrt,
  sub,
  sum,
  type Tensor,
} from "../core/index.js";

const EPS = 0.001; // "avoid grad explode", both losses

/** 1 where the ground truth is a measurement (gt > 0, and gt ≤ maxDepth when given), else 0. */
export function validDepthMask(gt: Tensor, maxDepth?: number): Tensor {
  const positive = cast(greater(gt, 0), gt.dtype);
  return maxDepth === undefined
    ? positive
    : mul(positive, cast(lessOrEqual(gt, maxDepth), gt.dtype));
}

/**
 * SigLoss over the valid pixels of the whole batch: g = log(pred + ε) − log(gt + ε),
 * sqrt(var(g) + 0.15 · mean(g)²) with torch's unbiased variance. `warmup` (a 0/1 scalar) selects
 * the official warm-up form sqrt(0.15 · mean(g)²).
 */
export function sigLoss(pred: Tensor, gt: Tensor, mask: Tensor, warmup?: Tensor): Tensor {
  const n = sum(mask);
  const g = mul(sub(log(add(pred, EPS)), log(add(gt, EPS))), mask);
  const mu = div(sum(g), n);
  const centred = mul(sub(g, mu), mask);
  const variance = div(sum(mul(centred, centred)), sub(n, 1));
  const bias = mul(mul(mu, mu), 0.15);
  const dg = warmup ? add(mul(variance, sub(1, warmup)), bias) : add(variance, bias);
  return sqrt(dg);
}

/**
 * MegaDepth's multi-scale gradient loss on depth maps [B, H, W]: at strides 1, 2, 4, 6 (the
 * official `[::2*i]` for i = 1..3), Σ |Δ₂ log-difference| over valid pixel pairs two apart, / N.
 * The official code indexes the leading axes of its [B, 1, H, W] tensors (batch and channel), not
 * H and W; we apply it to the image axes, as MegaDepth defines it.
 */
export function gradientLoss(pred: Tensor, gt: Tensor, mask: Tensor): Tensor {
  let total: Tensor | undefined;
  for (const stride of [1, 2, 4, 6]) {
    const [p, t, m] = [pred, gt, mask].map((x) => subsample(x, stride)) as [Tensor, Tensor, Tensor];
    const d = mul(sub(log(add(p, EPS)), log(add(t, EPS))), m);
    const term = div(add(pairTerm(d, m, 1), pairTerm(d, m, 2)), sum(m));
    total = total ? add(total, term) : term;
  }
  return total!;
}

/** Σ |d[i] − d[i+2]| · m[i] · m[i+2] along image axis 1 (rows) or 2 (columns) of [B, H, W]. */
function pairTerm(d: Tensor, m: Tensor, axis: 1 | 2): Tensor {
  const len = d.shape[axis]!;
  if (len < 3) return constant(hostTensor(d.dtype === "float64" ? "float64" : "float32", [], [0]));
  const a = (x: Tensor) => sliceAxis(x, axis, 0, len - 2);
  const b = (x: Tensor) => sliceAxis(x, axis, 2, len);
  return sum(mul(abs(sub(a(d), b(d))), mul(a(m), b(m))));
}

function sliceAxis(x: Tensor, axis: number, start: number, end: number): Tensor {
  return slice(x, axis, start, end);
}

/** Every `stride`-th row and column of [B, H, W] (x[:, ::stride, ::stride]). */
function subsample(x: Tensor, stride: number): Tensor {
  if (stride === 1) return x;
  const [, h, w] = x.shape as [number, number, number];
  return gatherRange(gatherRange(x, 1, 0, h, stride), 2, 0, w, stride);
}

function gatherRange(x: Tensor, axis: number, start: number, end: number, step: number): Tensor {
  const idx: number[] = [];
  for (let i = start; i < end; i += step) idx.push(i);
  return gather(x, constant(hostTensor("int64", [idx.length], idx)), axis);
}
