// Update rules outside AdamW: gradient clipping by total norm (torch clip_grad_norm_) and the
// EMA teacher update (SSLMetaArch.update_teacher).
import { add, div, minimum, mul, sqrt, sub, sum, type Tensor } from "../core/index.js";

/** Scales grads by min(1, maxNorm / (||grads||_2 + 1e-6)), the norm taken over all of them. */
export function clipByNorm(grads: readonly Tensor[], maxNorm: number): Tensor[] {
  let sq: Tensor | undefined;
  for (const g of grads) {
    const s = sum(mul(g, g));
    sq = sq ? add(sq, s) : s;
  }
  if (!sq) return [];
  const coef = minimum(div(maxNorm, add(sqrt(sq), 1e-6)), 1);
  return grads.map((g) => mul(g, coef));
}

/** teacher * m + student * (1 - m). */
export function emaUpdate(teacher: Tensor, student: Tensor, momentum: Tensor): Tensor {
  return add(mul(teacher, momentum), mul(student, sub(1, momentum)));
}
