// A numeric self-test of the core on one provider: matmul -> softmax -> layerNorm and the
// gradient of a weighted sum, against the same maths done in JS in float64 (gradients by
// central differences), so a broken kernel, lowering or grad rule shows as a large error.
import {
  constant,
  grad,
  hostTensor,
  input,
  layerNorm,
  matmul,
  mul,
  softmax,
  sum,
  toNumbers,
} from "../core/index.js";
import type { Runtime } from "../runtime/index.js";

export interface SelfTestResult {
  readonly ok: boolean;
  /** Largest |got - expected| / max(1, |expected|) of the forward output. */
  readonly forwardMaxErr: number;
  /** The same over every gradient element. */
  readonly gradMaxErr: number;
  readonly ms: number;
  /** Set when the graph did not compile or run. */
  readonly error?: string;
}

/** Errors above these fail the test: float32 kernels land near 1e-6. */
export const SELF_TEST_TOLERANCE = { forward: 1e-4, grad: 1e-3 } as const;

const M = 4;
const K = 8;
const N = 6;
const EPS = 1e-5;

interface Values {
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly gamma: readonly number[];
  readonly beta: readonly number[];
}

/** Runs the self-test graph on `rt` and compares it with the JS reference. */
export async function runSelfTest(rt: Runtime): Promise<SelfTestResult> {
  const start = performance.now();
  const v: Values = {
    x: pseudoRandom(M * K, 1, -1, 1),
    w: pseudoRandom(K * N, 2, -1, 1),
    gamma: pseudoRandom(N, 3, 0.5, 1.5),
    beta: pseudoRandom(N, 4, -0.5, 0.5),
  };
  const r = pseudoRandom(M * N, 5, 0.5, 1.5);
  try {
    const x = input("x", [M, K]);
    const w = input("w", [K, N]);
    const gamma = input("gamma", [N]);
    const beta = input("beta", [N]);
    const y = layerNorm(softmax(matmul(x, w), -1), gamma, beta, EPS);
    const loss = sum(mul(y, constant(hostTensor("float32", [M, N], r))));
    const [gx, gw, gGamma, gBeta] = grad(loss, [x, w, gamma, beta]);
    const exe = await rt.compile({ y, gx: gx!, gw: gw!, gGamma: gGamma!, gBeta: gBeta! });
    const out = await exe.run({
      x: hostTensor("float32", [M, K], v.x),
      w: hostTensor("float32", [K, N], v.w),
      gamma: hostTensor("float32", [N], v.gamma),
      beta: hostTensor("float32", [N], v.beta),
    });
    const forwardMaxErr = maxRelErr(toNumbers(out.y!), forward(v));
    const ref = referenceGrads(v, r);
    const gradMaxErr = Math.max(
      maxRelErr(toNumbers(out.gx!), ref.x),
      maxRelErr(toNumbers(out.gw!), ref.w),
      maxRelErr(toNumbers(out.gGamma!), ref.gamma),
      maxRelErr(toNumbers(out.gBeta!), ref.beta),
    );
    const ok =
      forwardMaxErr <= SELF_TEST_TOLERANCE.forward && gradMaxErr <= SELF_TEST_TOLERANCE.grad;
    return { ok, forwardMaxErr, gradMaxErr, ms: performance.now() - start };
  } catch (e) {
    const error = (e as Error).message.split("\n")[0]!;
    return {
      ok: false,
      forwardMaxErr: Number.NaN,
      gradMaxErr: Number.NaN,
      ms: performance.now() - start,
      error,
    };
  }
}

/** layerNorm(softmax(x @ w)) in float64, row by row. */
function forward(v: Values): number[] {
  const y: number[] = [];
  for (let i = 0; i < M; i++) {
    const z = Array.from({ length: N }, (_, j) => {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += v.x[i * K + k]! * v.w[k * N + j]!;
      return acc;
    });
    const zMax = Math.max(...z);
    const e = z.map((a) => Math.exp(a - zMax));
    const total = e.reduce((a, b) => a + b, 0);
    const s = e.map((a) => a / total);
    const mean = s.reduce((a, b) => a + b, 0) / N;
    const variance = s.reduce((a, b) => a + (b - mean) ** 2, 0) / N;
    const inv = 1 / Math.sqrt(variance + EPS);
    s.forEach((a, j) => {
      y.push((a - mean) * inv * v.gamma[j]! + v.beta[j]!);
    });
  }
  return y;
}

/** d(sum(forward * r))/d(each input) by central differences in float64. */
function referenceGrads(v: Values, r: readonly number[]): Record<keyof Values, number[]> {
  const loss = (vals: Values) => forward(vals).reduce((a, y, i) => a + y * r[i]!, 0);
  const h = 1e-6;
  const d = (key: keyof Values) =>
    v[key].map((_, i) => {
      const at = (delta: number) => {
        const moved = v[key].slice();
        moved[i] = moved[i]! + delta;
        return loss({ ...v, [key]: moved });
      };
      return (at(h) - at(-h)) / (2 * h);
    });
  return { x: d("x"), w: d("w"), gamma: d("gamma"), beta: d("beta") };
}

function maxRelErr(got: readonly number[], want: readonly number[]): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  want.forEach((e, i) => {
    const err = Math.abs(got[i]! - e) / Math.max(1, Math.abs(e));
    worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : Math.max(worst, err);
  });
  return worst;
}

/** Deterministic values in [lo, hi) (xorshift32), rounded to float32 so both sides see the same. */
function pseudoRandom(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return Math.fround(lo + ((s >>> 0) / 2 ** 32) * (hi - lo));
  });
}
