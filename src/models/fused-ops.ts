// onnxruntime's fused contrib kernels (domain com.microsoft) as ops of our graph, for inference
// graphs only: no gradients (grad "none"), and runnable only where onnxruntime's CPU provider
// registers them. Shapes are checked at construction like every other op.
// Schemas: onnxruntime/docs/ContribOperators.md (Attention, SkipLayerNormalization, BiasGelu).
import { defineOp, fmtShape, ShapeError, type Tensor, type ValueType } from "../core/index.js";

const MS = "com.microsoft";

function requireShape(op: string, what: string, got: ValueType, want: readonly number[]): void {
  if (got.shape.length !== want.length || !got.shape.every((d, i) => d === want[i])) {
    throw new ShapeError(op, `${what} must be ${fmtShape(want)}; got ${fmtShape(got.shape)}`);
  }
}

const attentionOp = defineOp<{ readonly numHeads: number }>({
  name: "msAttention",
  shape: ([x, w, bias], { numHeads }) => {
    if (x!.shape.length !== 3) {
      throw new ShapeError("msAttention", `input must be [B, N, D]; got ${fmtShape(x!.shape)}`);
    }
    const d = x!.shape[2]!;
    requireShape("msAttention", "weights", w!, [d, 3 * d]);
    requireShape("msAttention", "bias", bias!, [3 * d]);
    if (d % numHeads !== 0) {
      throw new ShapeError("msAttention", `width ${d} is not a multiple of ${numHeads} heads`);
    }
    return x!.shape;
  },
  dtype: () => "float32",
  grad: "none",
  onnx: (b, ins, { numHeads }) => b.node("Attention", ins, { num_heads: numHeads }, MS),
});

/**
 * Self-attention with its QKV projection, one kernel: softmax(Q Kᵀ/√Dh) V per head, heads
 * concatenated. x [B, N, D], weights [D, 3D] (the qkv Linear's weight transposed: q, k, v columns),
 * bias [3D]. The scale is onnxruntime's default 1/√Dh, DINOv2's `head_dim ** -0.5`.
 */
export function msAttention(x: Tensor, weights: Tensor, bias: Tensor, numHeads: number): Tensor {
  return attentionOp([x, weights, bias], { numHeads });
}

const skipLayerNormOp = defineOp<{ readonly eps: number }>({
  name: "msSkipLayerNorm",
  shape: ([x, skip, gamma, beta, bias]) => {
    if (x!.shape.length !== 3) {
      throw new ShapeError("msSkipLayerNorm", `input must be [B, N, D]; got ${fmtShape(x!.shape)}`);
    }
    requireShape("msSkipLayerNorm", "skip", skip!, x!.shape);
    const d = x!.shape[2]!;
    for (const [what, t] of [
      ["gamma", gamma],
      ["beta", beta],
      ["bias", bias],
    ] as const)
      requireShape("msSkipLayerNorm", what, t!, [d]);
    return x!.shape;
  },
  dtype: () => "float32",
  grad: "none",
  onnx: (b, ins, { eps }) => b.node("SkipLayerNormalization", ins, { epsilon: { f: eps } }, MS),
});

const nodeOutputOp = defineOp<{ readonly index: number }>({
  name: "msNodeOutput",
  shape: ([x]) => x!.shape,
  dtype: ([x]) => x!.dtype,
  grad: "none",
  onnx: (b, [first], { index }) => b.nodeOutput(first!, index),
});

/**
 * SkipLayerNormalization: s = x + skip + bias, returns { normed: LayerNorm(s) (gamma, beta, eps),
 * sum: s } from one kernel (the residual stream and the next block's pre-norm).
 */
export function msSkipLayerNorm(
  x: Tensor,
  skip: Tensor,
  gamma: Tensor,
  beta: Tensor,
  bias: Tensor,
  eps: number,
): { normed: Tensor; sum: Tensor } {
  const normed = skipLayerNormOp([x, skip, gamma, beta, bias], { eps });
  return { normed, sum: nodeOutputOp([normed], { index: 3 }) };
}

const biasGeluOp = defineOp<Record<string, never>>({
  name: "msBiasGelu",
  shape: ([x, bias]) => {
    requireShape("msBiasGelu", "bias", bias!, [x!.shape[x!.shape.length - 1]!]);
    return x!.shape;
  },
  dtype: () => "float32",
  grad: "none",
  onnx: (b, ins) => b.node("BiasGelu", ins, {}, MS),
});

/** Exact (erf) GELU of x + bias, one kernel. */
export function msBiasGelu(x: Tensor, bias: Tensor): Tensor {
  return biasGeluOp([x, bias], {});
}

const mhaOp = defineOp<{ readonly numHeads: number }>({
  name: "msMultiHeadAttention",
  shape: ([q, k, v, bias], { numHeads }) => {
    if (q!.shape.length !== 3 || k!.shape.length !== 3) {
      throw new ShapeError(
        "msMultiHeadAttention",
        `query and key must be [B, S, D] and [B, L, D]; got ${fmtShape(q!.shape)} and ${fmtShape(k!.shape)}`,
      );
    }
    const [b, , d] = q!.shape as [number, number, number];
    requireShape("msMultiHeadAttention", "key", k!, [b, k!.shape[1]!, d]);
    requireShape("msMultiHeadAttention", "value", v!, k!.shape);
    requireShape("msMultiHeadAttention", "bias", bias!, [3 * d]);
    if (d % numHeads !== 0) {
      throw new ShapeError(
        "msMultiHeadAttention",
        `width ${d} is not a multiple of ${numHeads} heads`,
      );
    }
    return q!.shape;
  },
  dtype: () => "float32",
  grad: "none",
  onnx: (b, ins, { numHeads }) => b.node("MultiHeadAttention", ins, { num_heads: numHeads }, MS),
});

/**
 * Attention of queries q [B, S, D] over keys k and values v [B, L, D] (projections without
 * bias; `bias` [3D] = q, k, v biases, added in the kernel), scale 1/√Dh: [B, S, D].
 */
export function msMultiHeadAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  bias: Tensor,
  numHeads: number,
): Tensor {
  return mhaOp([q, k, v, bias], { numHeads });
}
