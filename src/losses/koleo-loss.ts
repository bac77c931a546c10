// KoLeo regulariser (Kozachenko-Leonenko entropy estimator). Port of dinov2/loss/koleo_loss.py.
import {
  add,
  argmax,
  constant,
  gather,
  hostTensor,
  l2Normalize,
  log,
  matmul,
  mean,
  mT,
  mul,
  neg,
  sqrt,
  stopGradient,
  sub,
  sum,
  type Tensor,
  where,
} from "../core/index.js";

const EPS = 1e-8;

/** -mean(log(||x_i - x_nn(i) + eps|| + eps)) over L2-normalised rows of x [n, D]. */
export function koleoLoss(x: Tensor): Tensor {
  const [n] = x.shape as [number];
  const z = l2Normalize(x, -1, EPS);
  const eye = hostTensor(
    "bool",
    [n, n],
    Uint8Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
  );
  const dots = where(constant(eye), -1, stopGradient(matmul(z, mT(z)))); // diagonal set to -1
  const nn = argmax(dots, 1); // [n], no gradient
  const diff = add(sub(z, gather(z, nn, 0)), EPS); // PairwiseDistance adds eps to the difference
  const dist = sqrt(sum(mul(diff, diff), -1));
  return neg(mean(log(add(dist, EPS))));
}
