// Multinomial L2 logistic regression, the official protocol's classifier (dinov2/eval/
// log_regression.py, cuML LogisticRegression(penalty="l2", C, max_iter=1000), float64) fitted by
// L-BFGS. The objective is scikit-learn 1.2's lbfgs form
//   f(W, b) = Σ_i CE(x_i W + b, y_i) + ||W||² / (2 C)        (bias not penalised),
// (cuML divides both terms by N: same minimiser), and `tol` bounds max |∇f| of that sum. Loss and gradient of the data term run as one
// float64 graph of our core (autodiff'd, row chunks of a fixed size summed); the L-BFGS two-loop
// recursion and a strong-Wolfe line search (Nocedal & Wright, alg. 3.5/3.6) are vector algebra
// on the host. Hand-written because no maintained npm L-BFGS fits a graph-evaluated objective.
import {
  add,
  grad,
  type HostTensor,
  hostTensor,
  input,
  logSoftmax,
  matmul,
  mul,
  neg,
  ShapeError,
  sum,
} from "../core/index.js";
import type { Executable, Runtime } from "../runtime/index.js";

/** Features as float64 rows [N, dim] with labels in [0, numClasses). */
export interface LogRegData {
  readonly features: Float64Array | Float32Array;
  readonly labels: Int32Array;
  readonly dim: number;
}

export interface LogRegOptions {
  /** Inverse regularisation strength. */
  readonly C: number;
  readonly numClasses: number;
  /** L-BFGS iterations (official 1000). */
  readonly maxIter?: number;
  /** Stop when max |∇f| ≤ tol (scikit-learn's default 1e-4, as scipy's gtol; cuML's run 1e-12). */
  readonly tol?: number;
  /** History pairs kept (scipy's maxcor, 10). */
  readonly memory?: number;
  /** Rows per graph run. */
  readonly chunkRows?: number;
  /** Warm start [dim·C weights, C biases]; default zeros. */
  readonly init?: Float64Array;
}

export interface LogRegModel {
  readonly dim: number;
  readonly numClasses: number;
  /** [dim, numClasses] row-major, then the numClasses biases. */
  readonly params: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
  readonly loss: number;
}

/** Fits the classifier; deterministic for the data. */
export async function fitLogReg(
  runtime: Runtime,
  data: LogRegData,
  opts: LogRegOptions,
): Promise<LogRegModel> {
  const { dim } = data;
  const K = opts.numClasses;
  const n = data.labels.length;
  if (data.features.length !== n * dim || n === 0 || !(opts.C > 0)) {
    throw new ShapeError(
      "fitLogReg",
      `need N×dim features, N > 0 and C > 0; got ${data.features.length} values for ${n} labels × ${dim}, C = ${opts.C}`,
    );
  }
  data.labels.forEach((y, i) => {
    if (!(y >= 0 && y < K)) {
      throw new ShapeError("fitLogReg", `labels[${i}] is ${y}; expected a class in [0, ${K})`);
    }
  });
  const objective = await dataTerm(runtime, data, K, opts.chunkRows ?? 4096);
  const lambda = 1 / opts.C;
  const nw = dim * K;
  const f = async (p: Float64Array): Promise<[number, Float64Array]> => {
    const [loss, g] = await objective(p);
    let reg = 0;
    for (let i = 0; i < nw; i++) {
      reg += p[i]! * p[i]!;
      g[i]! += lambda * p[i]!;
    }
    return [loss + 0.5 * lambda * reg, g];
  };
  const x0 = opts.init ? Float64Array.from(opts.init) : new Float64Array(nw + K);
  const r = await lbfgs(f, x0, {
    maxIter: opts.maxIter ?? 1000,
    tol: opts.tol ?? 1e-4,
    memory: opts.memory ?? 10,
  });
  return {
    dim,
    numClasses: K,
    params: r.x,
    iterations: r.iterations,
    converged: r.converged,
    loss: r.f,
  };
}

/** Class scores x W + b of every row, [N, numClasses] (float64, on the host). */
export function logRegScores(model: LogRegModel, features: ArrayLike<number>): Float64Array {
  const { dim, numClasses: K, params } = model;
  const n = features.length / dim;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) out[i * K + k] = params[dim * K + k]!;
    for (let d = 0; d < dim; d++) {
      const x = features[i * dim + d]!;
      if (x === 0) continue;
      for (let k = 0; k < K; k++) out[i * K + k]! += x * params[d * K + k]!;
    }
  }
  return out;
}

/** Σ_i CE over all rows and its gradient wrt [W, b], through a float64 graph over row chunks. */
async function dataTerm(
  runtime: Runtime,
  data: LogRegData,
  K: number,
  chunkRows: number,
): Promise<(p: Float64Array) => Promise<[number, Float64Array]>> {
  const { dim } = data;
  const n = data.labels.length;
  const rows = Math.min(chunkRows, n);
  const x = input("x", [rows, dim], "float64");
  const y = input("y", [rows, K], "float64");
  const w = input("w", [dim, K], "float64");
  const b = input("b", [1, K], "float64");
  const loss = neg(sum(mul(y, logSoftmax(add(matmul(x, w), b), -1))));
  const [gw, gb] = grad(loss, [w, b]);
  const exe: Executable = await runtime.compile({ loss, gw: gw!, gb: gb! });
  // Chunks are built once; padding rows have an all-zero one-hot, so they add nothing.
  const chunks: { x: HostTensor; y: HostTensor }[] = [];
  for (let at = 0; at < n; at += rows) {
    const take = Math.min(rows, n - at);
    const xs = new Float64Array(rows * dim);
    for (let i = 0; i < take * dim; i++) xs[i] = data.features[at * dim + i]!;
    const ys = new Float64Array(rows * K);
    for (let i = 0; i < take; i++) ys[i * K + data.labels[at + i]!] = 1;
    chunks.push({
      x: hostTensor("float64", [rows, dim], xs),
      y: hostTensor("float64", [rows, K], ys),
    });
  }
  return async (p) => {
    const wt = hostTensor("float64", [dim, K], p.subarray(0, dim * K).slice());
    const bt = hostTensor("float64", [1, K], p.subarray(dim * K).slice());
    const g = new Float64Array(p.length);
    let total = 0;
    for (const c of chunks) {
      const out = await exe.run({ x: c.x, y: c.y, w: wt, b: bt });
      total += (out.loss!.data as Float64Array)[0]!;
      const ogw = out.gw!.data as Float64Array;
      const ogb = out.gb!.data as Float64Array;
      for (let i = 0; i < ogw.length; i++) g[i]! += ogw[i]!;
      for (let i = 0; i < K; i++) g[dim * K + i]! += ogb[i]!;
    }
    return [total, g];
  };
}

type Objective = (x: Float64Array) => Promise<[number, Float64Array]>;

interface LbfgsResult {
  readonly x: Float64Array;
  readonly f: number;
  readonly iterations: number;
  readonly converged: boolean;
}

/** L-BFGS with a strong-Wolfe line search; stops on max|g| ≤ tol, no decrease, or maxIter. */
export async function lbfgs(
  fg: Objective,
  x0: Float64Array,
  o: { readonly maxIter: number; readonly tol: number; readonly memory: number },
): Promise<LbfgsResult> {
  let x = x0;
  let [f, g] = await fg(x);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let it = 0;
  for (; it < o.maxIter; it++) {
    if (maxAbs(g) <= o.tol) return { x, f, iterations: it, converged: true };
    const d = twoLoop(g, S, Y, rho);
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (curvature info gone stale): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < d.length; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    const step0 = S.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(d, d))) : 1;
    const ls = await wolfeSearch(fg, x, f, g, d, slope, step0);
    if (!ls) return { x, f, iterations: it, converged: false };
    const s = new Float64Array(x.length);
    const yv = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      s[i] = ls.x[i]! - x[i]!;
      yv[i] = ls.g[i]! - g[i]!;
    }
    const sy = dot(s, yv);
    const fPrev = f;
    [x, f, g] = [ls.x, ls.f, ls.g];
    if (sy > 1e-12 * dot(yv, yv)) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > o.memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= 64 * Number.EPSILON) {
      return { x, f, iterations: it + 1, converged: true };
    }
  }
  return { x, f, iterations: it, converged: maxAbs(g) <= o.tol };
}

/** −H·g by the two-loop recursion, H0 = (s·y / y·y) I. */
function twoLoop(
  g: Float64Array,
  S: Float64Array[],
  Y: Float64Array[],
  rho: number[],
): Float64Array {
  const q = Float64Array.from(g);
  const alpha = new Array<number>(S.length);
  for (let k = S.length - 1; k >= 0; k--) {
    alpha[k] = rho[k]! * dot(S[k]!, q);
    axpy(-alpha[k]!, Y[k]!, q);
  }
  if (S.length > 0) {
    const last = S.length - 1;
    const gamma = 1 / (rho[last]! * dot(Y[last]!, Y[last]!));
    for (let i = 0; i < q.length; i++) q[i]! *= gamma;
  }
  for (let k = 0; k < S.length; k++) {
    const beta = rho[k]! * dot(Y[k]!, q);
    axpy(alpha[k]! - beta, S[k]!, q);
  }
  for (let i = 0; i < q.length; i++) q[i] = -q[i]!;
  return q;
}

interface Point {
  readonly x: Float64Array;
  readonly f: number;
  readonly g: Float64Array;
}

/** Strong Wolfe (c1 = 1e-4, c2 = 0.9), bracketing then zoom with cubic interpolation. */
async function wolfeSearch(
  fg: Objective,
  x: Float64Array,
  f0: number,
  _g0: Float64Array,
  d: Float64Array,
  slope0: number,
  step0: number,
): Promise<Point | null> {
  const c1 = 1e-4;
  const c2 = 0.9;
  const at = async (a: number): Promise<Point & { a: number; slope: number }> => {
    const xa = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) xa[i] = x[i]! + a * d[i]!;
    const [f, g] = await fg(xa);
    return { a, x: xa, f, g, slope: dot(g, d) };
  };
  let prev = { a: 0, f: f0, slope: slope0 };
  let a = step0;
  for (let i = 0; i < 50; i++) {
    const cur = await at(a);
    if (!Number.isFinite(cur.f) || cur.f > f0 + c1 * a * slope0 || (i > 0 && cur.f >= prev.f)) {
      return zoom(at, prev, cur, f0, slope0, c1, c2);
    }
    if (Math.abs(cur.slope) <= -c2 * slope0) return cur;
    if (cur.slope >= 0) return zoom(at, cur, prev, f0, slope0, c1, c2);
    prev = cur;
    a *= 2;
  }
  return null;
}

async function zoom(
  at: (a: number) => Promise<Point & { a: number; slope: number }>,
  lo0: { a: number; f: number; slope: number },
  hi0: { a: number; f: number; slope: number },
  f0: number,
  slope0: number,
  c1: number,
  c2: number,
): Promise<Point | null> {
  let lo = lo0;
  let hi = hi0;
  let best: (Point & { a: number }) | null = null;
  for (let i = 0; i < 50; i++) {
    let a = cubicMin(lo, hi);
    const [l, h] = [Math.min(lo.a, hi.a), Math.max(lo.a, hi.a)];
    if (!(a > l + 0.1 * (h - l) && a < h - 0.1 * (h - l))) a = (lo.a + hi.a) / 2;
    const cur = await at(a);
    if (cur.f > f0 + c1 * a * slope0 || cur.f >= lo.f) {
      hi = cur;
    } else {
      best = cur;
      if (Math.abs(cur.slope) <= -c2 * slope0) return cur;
      if (cur.slope * (hi.a - lo.a) >= 0) hi = lo;
      lo = cur;
    }
    if (Math.abs(hi.a - lo.a) < 1e-16 * Math.max(1, Math.abs(lo.a))) break;
  }
  return best; // a sufficient decrease without the curvature condition, or nothing
}

/** Minimiser of the cubic through (a, f, f') at both ends; NaN when it has none. */
function cubicMin(
  p: { a: number; f: number; slope: number },
  q: { a: number; f: number; slope: number },
): number {
  const d1 = p.slope + q.slope - (3 * (p.f - q.f)) / (p.a - q.a);
  const disc = d1 * d1 - p.slope * q.slope;
  if (!(disc >= 0)) return Number.NaN;
  const d2 = Math.sign(q.a - p.a) * Math.sqrt(disc);
  return q.a - (q.a - p.a) * ((q.slope + d2 - d1) / (q.slope - p.slope + 2 * d2));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
