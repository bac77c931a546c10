// Batched matrix multiplication with numpy broadcasting of the batch axes.
import { ShapeError } from "../errors.js";
import { defineOp, requireFloat } from "../op.js";
import { fmtShape, tryBroadcastShapes } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { mT } from "./movement.js";

const matmulOp = defineOp<Record<string, never>>({
  name: "matmul",
  shape: ([a, b]) => {
    const sa = a!.shape;
    const sb = b!.shape;
    if (sa.length < 2 || sb.length < 2) {
      throw new ShapeError(
        "matmul",
        `operands must have rank >= 2; got ${fmtShape(sa)} @ ${fmtShape(sb)}`,
      );
    }
    const k1 = sa[sa.length - 1]!;
    const k2 = sb[sb.length - 2]!;
    if (k1 !== k2) {
      throw new ShapeError(
        "matmul",
        `inner dimensions differ; got ${fmtShape(sa)} @ ${fmtShape(sb)} (${k1} ≠ ${k2})`,
        {
          hint: "was the Linear built with inFeatures equal to the input's last dimension?",
        },
      );
    }
    const batch = tryBroadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
    if (!batch) {
      throw new ShapeError(
        "matmul",
        `batch dimensions do not broadcast; got ${fmtShape(sa)} @ ${fmtShape(sb)}`,
      );
    }
    return [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!];
  },
  dtype: requireFloat("matmul"),
  broadcasts: true,
  grad: ({ ins: [a, b], dout }) => [matmul(dout, mT(b!)), matmul(mT(a!), dout)],
  onnx: (b, ins) => b.node("MatMul", ins),
});

/** `a @ b` over the last two axes; leading axes broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulOp([a, b], {});
}

export const LINALG_OPS = [matmulOp.def] as const;
