// Python/PyTorch numeric semantics the ports rely on: round() to even, float32 torch.linspace
// and float32 products (int(N * prob) on a float32 tensor).

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torch.linspace(start, end, steps) in float32: the first half counts up from start, the second
 * half down from end (ATen's RangeFactories kernel), every value rounded to float32.
 */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`linspaceF32: steps must be a positive integer; got ${steps}`);
  }
  const out = new Float32Array(steps);
  const s = Math.fround(start);
  const e = Math.fround(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = Math.fround((e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? s + Math.fround(step * i) : e - Math.fround(step * (steps - i - 1));
  }
  return out;
}

/** int(n * x) where x is a float32 tensor element: the product is rounded to float32 first. */
export function truncMulF32(n: number, x: number): number {
  return Math.trunc(Math.fround(n * Math.fround(x)));
}
