// Teacher centering shared by the DINO and iBOT losses: softmax centering with an EMA center,
// and Sinkhorn-Knopp. Ports of softmax_center_teacher / update_center / sinkhorn_knopp_teacher
// in dinov2/loss/dino_clstoken_loss.py and ibot_patch_loss.py.
import {
  add,
  cast,
  div,
  exp,
  greater,
  max,
  maximum,
  mul,
  reshape,
  softmax,
  stopGradient,
  sub,
  sum,
  type Tensor,
  where,
} from "../core/index.js";

/** softmax((t - center) / temp) over prototypes; t [R, K], center broadcastable to it. */
export function softmaxCenter(
  teacherLogits: Tensor,
  center: Tensor,
  temp: Tensor | number,
): Tensor {
  return softmax(div(sub(teacherLogits, center), temp), -1);
}

/** center * m + batchMean * (1 - m), the official EMA (applied once per iteration). */
export function centerUpdate(center: Tensor, batchMean: Tensor, momentum: number): Tensor {
  return add(mul(center, momentum), mul(reshape(batchMean, center.shape), 1 - momentum));
}

export interface SinkhornOptions {
  readonly iterations?: number;
  /** Rows that take part, as 0/1 [R] (padding rows get 0 and a zero assignment). */
  readonly valid?: Tensor;
  /** Number of samples B (a scalar tensor when only `valid` rows count). */
  readonly count?: Tensor | number;
}

/**
 * Sinkhorn-Knopp assignment of R rows to K prototypes (rows of the result sum to 1).
 * Subtracting the maximum before exp changes nothing (the first step divides by the total) and
 * avoids float32 overflow.
 */
export function sinkhornKnopp(
  teacherLogits: Tensor,
  temp: Tensor | number,
  o: SinkhornOptions = {},
): Tensor {
  const [r, k] = teacherLogits.shape as [number, number];
  const t = stopGradient(teacherLogits);
  const validCol = o.valid ? reshape(o.valid, [r, 1]) : undefined;
  const masked = validCol ? where(greater(validCol, 0), t, -3.0e38) : t;
  let q = exp(div(sub(t, max(masked)), temp)); // [R, K] (the official Q is its transpose)
  if (validCol) q = mul(q, validCol);
  const b = o.count ?? r;
  q = div(q, sum(q));
  for (let it = 0; it < (o.iterations ?? 3); it++) {
    q = div(div(q, sum(q, 0, { keepDims: true })), k); // each prototype gets 1/K
    const rowSum = sum(q, 1, { keepDims: true });
    q = div(div(q, validCol ? maximum(rowSum, 1e-30) : rowSum), b); // each sample gets 1/B
  }
  return mul(q, b);
}

/** Mean of the rows of x [R, K] where valid [R] is 1. */
export function maskedRowMean(x: Tensor, valid: Tensor, count: Tensor): Tensor {
  const [r] = x.shape as [number];
  return div(sum(mul(x, reshape(cast(valid, x.dtype), [r, 1])), 0, { keepDims: true }), count);
}
