// DINO [CLS]-token cross-entropy. Port of dinov2/loss/dino_clstoken_loss.py (DINOLoss.forward).
import { div, logSoftmax, mean, mul, neg, sum, type Tensor } from "../core/index.js";

/** -mean_rows(sum_k t * log_softmax(s / studentTemp)); s, t [R, K]. */
export function dinoCrossEntropy(
  studentLogits: Tensor,
  teacherProbs: Tensor,
  studentTemp: number,
): Tensor {
  const lsm = logSoftmax(div(studentLogits, studentTemp), -1);
  return neg(mean(sum(mul(teacherProbs, lsm), -1)));
}
