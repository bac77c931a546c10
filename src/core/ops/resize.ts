// Bilinear resizing of the last two axes as a composite: out = R_h · x · R_wᵀ with constant
// interpolation matrices (PyTorch align_corners=False), so its gradient is two matmuls for free.
import { ShapeError } from "../errors.js";
import { hostTensor } from "../host-tensor.js";
import { bilinearWeights } from "../resample.js";
import type { Tensor } from "../tensor.js";
import { constant } from "./leaf.js";
import { matmul } from "./linalg.js";

/**
 * F.interpolate(x, size=[outH, outW], mode="bilinear", align_corners=False) over x [..., H, W].
 * @example resizeBilinear(logits, 224, 224) // [B, K, 16, 16] -> [B, K, 224, 224]
 */
export function resizeBilinear(x: Tensor, outH: number, outW: number): Tensor {
  const rank = x.shape.length;
  if (rank < 2 || !Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new ShapeError(
      "resizeBilinear",
      `need x of rank >= 2 and positive integer sizes; got [${x.shape}] to ${outH}×${outW}`,
    );
  }
  const h = x.shape[rank - 2]!;
  const w = x.shape[rank - 1]!;
  let y = x;
  if (outH !== h) y = matmul(weights(bilinearWeights(h, outH), [outH, h], x), y);
  if (outW !== w)
    y = matmul(y, weights(transposed(bilinearWeights(w, outW), outW, w), [w, outW], x));
  return y;
}

function weights(m: Float64Array, shape: [number, number], like: Tensor): Tensor {
  return constant(
    like.dtype === "float64"
      ? hostTensor("float64", shape, m)
      : hostTensor("float32", shape, Float32Array.from(m)),
  );
}

/** [rows, cols] -> [cols, rows]. */
function transposed(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}
