// Fused primitives with their own VJPs, for speed and stability: softmax, logSoftmax, layerNorm, gelu.
// Each equals its composite formulation (checked in nn.test.ts).
import { ShapeError } from "../errors.js";
import { defineOp, requireFloat, sameShape } from "../op.js";
import { fmtShape, normalizeAxis } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { add, div, erf, exp, mul, sqrt, sub } from "./elementwise.js";
import { mean, sum } from "./reduce.js";

const softmaxOp = defineOp<{ readonly axis: number }>({
  name: "softmax",
  shape: sameShape,
  dtype: requireFloat("softmax"),
  grad: ({ out, dout, attrs: { axis } }) => [
    mul(out, sub(dout, sum(mul(dout, out), axis, { keepDims: true }))),
  ],
  onnx: (b, ins, { axis }) => b.node("Softmax", ins, { axis }),
});

const logSoftmaxOp = defineOp<{ readonly axis: number }>({
  name: "logSoftmax",
  shape: sameShape,
  dtype: requireFloat("logSoftmax"),
  grad: ({ out, dout, attrs: { axis } }) => [
    sub(dout, mul(exp(out), sum(dout, axis, { keepDims: true }))),
  ],
  onnx: (b, ins, { axis }) => b.node("LogSoftmax", ins, { axis }),
});

// LayerNorm over the last axis with weight and bias; the backward pass recomputes the statistics.
const layerNormOp = defineOp<{ readonly eps: number }>({
  name: "layerNorm",
  shape: ([x, w, b]) => {
    const d = x!.shape[x!.shape.length - 1];
    if (w!.shape.length !== 1 || w!.shape[0] !== d || b!.shape.length !== 1 || b!.shape[0] !== d) {
      throw new ShapeError(
        "layerNorm",
        `weight and bias must be [${d}]; got ${fmtShape(w!.shape)} and ${fmtShape(b!.shape)} for input ${fmtShape(x!.shape)}`,
      );
    }
    return x!.shape;
  },
  dtype: requireFloat("layerNorm"),
  broadcasts: true,
  grad: ({ ins: [x, w], dout, attrs: { eps } }) => {
    const xc = sub(x!, mean(x!, -1, { keepDims: true }));
    const rstd = div(1, sqrt(add(mean(mul(xc, xc), -1, { keepDims: true }), eps)));
    const xhat = mul(xc, rstd);
    const dxhat = mul(dout, w!);
    const dx = mul(
      rstd,
      sub(
        sub(dxhat, mean(dxhat, -1, { keepDims: true })),
        mul(xhat, mean(mul(dxhat, xhat), -1, { keepDims: true })),
      ),
    );
    return [dx, mul(dout, xhat), dout];
  },
  onnx: (b, ins, { eps }) => b.node("LayerNormalization", ins, { axis: -1, epsilon: { f: eps } }),
});

// Exact (erf) GELU as one kernel: the composite's intermediates are kept alive for the backward
// pass, so ONNX Runtime cannot fuse it in training graphs. The VJP recomputes Φ(x) and φ(x).
const geluOp = defineOp<Record<string, never>>({
  name: "gelu",
  shape: sameShape,
  dtype: requireFloat("gelu"),
  grad: ({ ins: [x], dout }) => {
    const cdf = mul(add(erf(mul(x!, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x!, x!), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [mul(dout, add(cdf, mul(x!, pdf)))];
  },
  onnx: (b, ins) => b.node("Gelu", ins, {}, "com.microsoft"),
});

/** Exact (erf) GELU, as torch.nn.GELU(). */
export function gelu(x: Tensor): Tensor {
  return geluOp([x], {});
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp([x], { axis: normalizeAxis("softmax", axis, x.rank) });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return logSoftmaxOp([x], { axis: normalizeAxis("logSoftmax", axis, x.rank) });
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-6): Tensor {
  return layerNormOp([x, weight, bias], { eps });
}

export const NN_OPS = [softmaxOp.def, logSoftmaxOp.def, layerNormOp.def, geluOp.def] as const;
