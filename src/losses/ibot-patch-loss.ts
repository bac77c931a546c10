// iBOT masked-patch cross-entropy with per-image mask weights over the padded masked-token
// buffer. Port of dinov2/loss/ibot_patch_loss.py (forward_masked).
import { div, logSoftmax, mul, neg, sum, type Tensor } from "../core/index.js";

/**
 * -sum_m w_m * sum_k t * log_softmax(s / temp) / nImages. s, t [U, K] over the `upperbound`
 * buffer; padding rows have weight 0. nImages counts every global crop, masked or not.
 */
export function ibotMaskedLoss(
  student: Tensor,
  teacher: Tensor,
  weights: Tensor,
  nImages: number,
  studentTemp: number,
): Tensor {
  const perToken = sum(mul(teacher, logSoftmax(div(student, studentTemp), -1)), -1); // [U]
  return div(neg(sum(mul(perToken, weights))), nImages);
}
