// AdamW as graph ops (torch.optim.AdamW semantics); state enters and leaves the graph explicitly.
import { add, div, mul, sqrt, sub, type Tensor } from "../core/index.js";

export interface AdamwHyper {
  /** Scalar tensors (graph inputs) or constants: the schedule changes them every step. */
  readonly lr: Tensor | number;
  readonly weightDecay: Tensor | number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** 1 - beta1^t and 1 - beta2^t for the step t being taken (computed on the host). */
  readonly biasCorrection1: Tensor | number;
  readonly biasCorrection2: Tensor | number;
}

export interface AdamwState {
  readonly param: Tensor;
  readonly m: Tensor;
  readonly v: Tensor;
}

/** One AdamW step for one parameter: decoupled weight decay, then the Adam update. */
export function adamwUpdate(s: AdamwState, g: Tensor, h: AdamwHyper): AdamwState {
  const lrWd = times(h.lr, h.weightDecay);
  const decayed =
    lrWd === 0
      ? s.param
      : typeof lrWd === "number"
        ? mul(s.param, 1 - lrWd)
        : mul(s.param, sub(1, lrWd));
  const m = add(mul(s.m, h.beta1), mul(g, 1 - h.beta1));
  const v = add(mul(s.v, h.beta2), mul(mul(g, g), 1 - h.beta2));
  const denom = add(div(sqrt(v), sqrtOf(h.biasCorrection2)), h.eps);
  const step = div(mul(m, over(h.lr, h.biasCorrection1)), denom);
  return { param: sub(decayed, step), m, v };
}

function times(a: Tensor | number, b: Tensor | number): Tensor | number {
  return typeof a === "number" && typeof b === "number" ? a * b : mul(a, b);
}

function over(a: Tensor | number, b: Tensor | number): Tensor | number {
  return typeof a === "number" && typeof b === "number" ? a / b : div(a, b);
}

function sqrtOf(x: Tensor | number): Tensor | number {
  return typeof x === "number" ? Math.sqrt(x) : sqrt(x);
}
