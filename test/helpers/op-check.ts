// Test helpers for ops: run a small graph through ONNX Runtime, and check gradients against
// central finite differences, both evaluated by ONNX Runtime (no second implementation).
import {
  constant,
  type DType,
  grad,
  type HostTensor,
  hostTensor,
  input,
  mul,
  sum,
  type Tensor,
  toNumbers,
} from "../../src/core/index.js";
import { createRuntime, type Runtime } from "../../src/runtime/index.js";

let shared: Promise<Runtime> | undefined;
export function testRuntime(): Promise<Runtime> {
  shared ??= createRuntime({ provider: "cpu", threads: 1 });
  return shared;
}

export type Build = (...xs: Tensor[]) => Tensor;

/** Runs build(inputs) through ORT and returns the output. */
export async function runOp(build: Build, inputs: readonly HostTensor[]): Promise<HostTensor> {
  const rt = await testRuntime();
  const xs = inputs.map((t, i) => input(`x${i}`, t.shape, t.dtype));
  const y = build(...xs);
  const exe = await rt.compile({ y });
  const feeds = Object.fromEntries(
    inputs.map((t, i) => [`x${i}`, t]).filter(([name]) => exe.inputs.has(name as string)),
  );
  return (await exe.run(feeds)).y!;
}

/** Deterministic pseudo-random values in [lo, hi) for test inputs. */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  });
}

export function rand(
  shape: readonly number[],
  seed: number,
  dtype: DType = "float64",
  lo = -1,
  hi = 1,
): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return hostTensor(dtype, shape, randomValues(n, seed, lo, hi));
}

export interface GradcheckOptions {
  /** Which inputs to differentiate (default: every float input). */
  readonly wrt?: readonly number[];
  readonly eps?: number;
  readonly atol?: number;
  readonly rtol?: number;
}

export interface GradcheckResult {
  readonly maxAbsErr: number;
  readonly worst: string;
  readonly ok: boolean;
}

/**
 * Compares d/dx sum(build(x) * R) from the backward graph with central differences of the
 * forward graph. R is a fixed random tensor so every output element matters.
 */
export async function gradcheck(
  build: Build,
  inputs: readonly HostTensor[],
  opts: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const rt = await testRuntime();
  const dtype = inputs.find((t) => t.dtype === "float64" || t.dtype === "float32")!.dtype;
  const eps = opts.eps ?? (dtype === "float64" ? 1e-6 : 1e-2);
  const atol = opts.atol ?? (dtype === "float64" ? 1e-7 : 1e-3);
  const rtol = opts.rtol ?? (dtype === "float64" ? 1e-6 : 1e-2);
  const wrt = opts.wrt ?? inputs.map((t, i) => (t.dtype === dtype ? i : -1)).filter((i) => i >= 0);
  const xs = inputs.map((t, i) => input(`x${i}`, t.shape, t.dtype));
  const y = build(...xs);
  const r = constant(rand(y.shape, 7919, y.dtype, 0.5, 1.5));
  const loss = sum(mul(y, r));
  const grads = grad(
    loss,
    wrt.map((i) => xs[i]!),
  );
  const outputs: Record<string, Tensor> = { loss };
  grads.forEach((g, k) => {
    outputs[`g${k}`] = g;
  });
  const exe = await rt.compile(outputs);
  const feedsOf = (ins: readonly HostTensor[]) =>
    Object.fromEntries(
      ins.map((t, i) => [`x${i}`, t]).filter(([n]) => exe.inputs.has(n as string)),
    );
  const analytic = await exe.run(feedsOf(inputs));
  let maxAbsErr = 0;
  let worst = "";
  let ok = true;
  for (const [k, i] of wrt.entries()) {
    const base = inputs[i]!;
    const ga = toNumbers(analytic[`g${k}`]!);
    for (let j = 0; j < base.data.length; j++) {
      const lossAt = async (delta: number) => {
        const data = (base.data as Float64Array).slice();
        data[j] = (data[j] as number) + delta;
        const moved = inputs.map((t, q) => (q === i ? hostTensor(t.dtype, t.shape, data) : t));
        return toNumbers((await exe.run(feedsOf(moved))).loss!)[0]!;
      };
      const numeric = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
      const err = Math.abs(numeric - ga[j]!);
      if (err > maxAbsErr) {
        maxAbsErr = err;
        worst = `input ${i} element ${j}: analytic ${ga[j]}, numeric ${numeric}`;
      }
      if (err > atol + rtol * Math.abs(numeric)) ok = false;
    }
  }
  return { maxAbsErr, worst, ok };
}
