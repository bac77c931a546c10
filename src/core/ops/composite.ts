// Composites: plain functions of primitives, so their gradients come for free.
import type { Tensor } from "../tensor.js";
import {
  add,
  div,
  erf,
  exp,
  maximum,
  mul,
  sigmoid,
  sqrt,
  stopGradient,
  sub,
} from "./elementwise.js";
import { max, mean, sum } from "./reduce.js";

/** Exact (erf) GELU written with primitives: the reference for the fused `gelu`. */
export function geluComposite(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

export function relu(x: Tensor): Tensor {
  return maximum(x, 0);
}

/** x / max(||x||_2, eps) along `axis`, as torch.nn.functional.normalize. */
export function l2Normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  const norm = sqrt(sum(mul(x, x), axis, { keepDims: true }));
  return div(x, maximum(norm, eps));
}

/** softmax written with primitives: the reference that the fused `softmax` is tested against. */
export function softmaxComposite(x: Tensor, axis = -1): Tensor {
  const e = exp(sub(x, stopGradient(max(x, axis, { keepDims: true }))));
  return div(e, sum(e, axis, { keepDims: true }));
}

/** layerNorm written with primitives: the reference for the fused `layerNorm`. */
export function layerNormComposite(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-6): Tensor {
  const xc = sub(x, mean(x, -1, { keepDims: true }));
  const variance = mean(mul(xc, xc), -1, { keepDims: true });
  return add(mul(div(xc, sqrt(add(variance, eps))), weight), bias);
}
