// Every op case of src/core/ops/*.cases.ts on one provider in float32: forward cases against their
// literal values, gradient cases against the CPU provider's float64 gradient of the same graph.
// Shared by test/gpu/ops.gpu.test.ts and scripts/gpu-op-suite.ts (which writes the JSON record).
import * as ort from "onnxruntime-node";
import {
  constant,
  grad,
  type HostTensor,
  hostTensor,
  input,
  isFloat,
  mul,
  PRIMITIVES,
  sum,
  type Tensor,
  toNumbers,
} from "../../src/core/index.js";
import type { ForwardCase, GradCase, OpCases } from "../../src/core/ops/cases.js";
import { ELEMENTWISE_CASES } from "../../src/core/ops/elementwise.cases.js";
import { LEAF_CASES } from "../../src/core/ops/leaf.cases.js";
import { LINALG_CASES } from "../../src/core/ops/linalg.cases.js";
import { MOVEMENT_CASES } from "../../src/core/ops/movement.cases.js";
import { NN_CASES } from "../../src/core/ops/nn.cases.js";
import { REDUCE_CASES } from "../../src/core/ops/reduce.cases.js";
import { lowerToOnnx } from "../../src/onnx/index.js";
import type { Provider, Runtime } from "../../src/runtime/index.js";
import { rand } from "../helpers/op-check.js";

/** Every *.cases.ts file's table; ops.gpu.test.ts checks that none is missing from this list. */
export const CASE_FILES: Readonly<Record<string, Readonly<Record<string, OpCases>>>> = {
  "elementwise.cases.ts": ELEMENTWISE_CASES,
  "leaf.cases.ts": LEAF_CASES,
  "linalg.cases.ts": LINALG_CASES,
  "movement.cases.ts": MOVEMENT_CASES,
  "nn.cases.ts": NN_CASES,
  "reduce.cases.ts": REDUCE_CASES,
};

export const ALL_CASES: Readonly<Record<string, OpCases>> = Object.assign(
  {},
  ...Object.values(CASE_FILES),
);

/** Relative to max(1, |expected|): float32 kernels land near 1e-7; GPU transcendentals near 1e-6. */
export const TOLERANCE = { forward: 1e-5, grad: 1e-4 } as const;

export type Status = "pass" | "differ" | "fail";

export interface CaseRecord {
  readonly kind: "forward" | "grad";
  readonly index: number;
  readonly status: Status;
  readonly maxError?: number;
  readonly tolerance?: number;
  /** Why it failed (did not compile or run), or how it differs in shape. */
  readonly error?: string;
  /** Whether a session with CPU fallback disabled accepts the graph: every node on the provider. */
  readonly allOnProvider?: boolean;
  readonly fallbackDetail?: string;
}

export interface OpRecord {
  readonly op: string;
  /** The worst of its cases. */
  readonly status: Status;
  readonly maxError: number;
  readonly cases: readonly CaseRecord[];
}

export interface OpSuiteReport {
  readonly provider: Provider;
  readonly dtype: "float32";
  readonly tolerance: typeof TOLERANCE;
  readonly counts: Readonly<Record<Status, number>>;
  readonly ops: readonly OpRecord[];
}

/** Runs every op's forward and gradient cases on `rt`; `reference` (CPU) supplies float64 gradients. */
export async function runOpSuite(
  rt: Runtime,
  reference: Runtime,
  only?: readonly string[],
): Promise<OpSuiteReport> {
  const ops: OpRecord[] = [];
  const names = PRIMITIVES.map((d) => d.name).filter((n) => !only || only.includes(n));
  for (const op of names) {
    const cases = ALL_CASES[op];
    if (!cases) {
      ops.push({
        op,
        status: "fail",
        maxError: Number.NaN,
        cases: [{ kind: "forward", index: 0, status: "fail", error: "no cases" }],
      });
      continue;
    }
    ops.push(await runOp(op, cases, rt, reference));
  }
  const counts = { pass: 0, differ: 0, fail: 0 };
  for (const o of ops) counts[o.status]++;
  return { provider: rt.options.provider, dtype: "float32", tolerance: TOLERANCE, counts, ops };
}

export async function runOp(
  op: string,
  cases: OpCases,
  rt: Runtime,
  reference: Runtime,
): Promise<OpRecord> {
  const records: CaseRecord[] = [];
  for (const [i, fc] of cases.forward.entries()) records.push(await runForwardCase(rt, fc, i));
  if (cases.grad !== "none") {
    for (const [i, gc] of cases.grad.entries())
      records.push(await runGradCase(rt, reference, gc, i));
  }
  const rank: Record<Status, number> = { pass: 0, differ: 1, fail: 2 };
  const status = records.reduce<Status>(
    (w, r) => (rank[r.status] > rank[w] ? r.status : w),
    "pass",
  );
  const maxError = Math.max(0, ...records.map((r) => r.maxError ?? 0));
  return { op, status, maxError, cases: records };
}

/** A forward case with float64 inputs made float32, against its literal expected values. */
export async function runForwardCase(
  rt: Runtime,
  fc: ForwardCase,
  index: number,
): Promise<CaseRecord> {
  const tolerance = Math.max(TOLERANCE.forward, fc.tol ?? 0);
  try {
    const inputs = fc.inputs.map(toFloat32);
    const outputs = { y: fc.build(...leaves(inputs)) };
    const exe = await rt.compile(outputs);
    const y = (await exe.run(feedsFor(inputs, exe.inputs))).y!;
    const placement = await checkPlacement(rt.options.provider, outputs);
    if (y.shape.join(",") !== fc.shape.join(",")) {
      return {
        kind: "forward",
        index,
        status: "differ",
        error: `shape [${y.shape}], expected [${fc.shape}]`,
        ...placement,
      };
    }
    const maxError = maxRelErr(toNumbers(y), fc.expected);
    return {
      kind: "forward",
      index,
      status: maxError <= tolerance ? "pass" : "differ",
      maxError,
      tolerance,
      ...placement,
    };
  } catch (e) {
    return { kind: "forward", index, status: "fail", error: firstLine(e) };
  }
}

/** d sum(build(x)·R)/dx in float32 on `rt` against float64 on the reference CPU runtime. */
export async function runGradCase(
  rt: Runtime,
  reference: Runtime,
  gc: GradCase,
  index: number,
): Promise<CaseRecord> {
  try {
    const wrt = gc.wrt ?? gc.inputs.flatMap((t, i) => (isFloat(t.dtype) ? [i] : []));
    const want = await gradients(reference, gc, gc.inputs, wrt);
    const inputs = gc.inputs.map(toFloat32);
    const got = await gradients(rt, gc, inputs, wrt);
    const placement = await checkPlacement(rt.options.provider, got.outputs);
    const maxError = Math.max(0, ...want.values.map((w, k) => maxRelErr(got.values[k]!, w)));
    const status = maxError <= TOLERANCE.grad ? "pass" : "differ";
    return { kind: "grad", index, status, maxError, tolerance: TOLERANCE.grad, ...placement };
  } catch (e) {
    return { kind: "grad", index, status: "fail", error: firstLine(e) };
  }
}

async function gradients(
  rt: Runtime,
  gc: GradCase,
  inputs: readonly HostTensor[],
  wrt: readonly number[],
): Promise<{ values: number[][]; outputs: Record<string, Tensor> }> {
  const xs = leaves(inputs);
  const y = gc.build(...xs);
  const loss = sum(mul(y, constant(rand(y.shape, 7919, y.dtype, 0.5, 1.5))));
  const outputs: Record<string, Tensor> = {};
  grad(
    loss,
    wrt.map((i) => xs[i]!),
  ).forEach((g, k) => {
    outputs[`g${k}`] = g;
  });
  const exe = await rt.compile(outputs);
  const out = await exe.run(feedsFor(inputs, exe.inputs));
  return { values: wrt.map((_, k) => toNumbers(out[`g${k}`]!)), outputs };
}

/** Tries a session that may not fall back to the CPU: does every node run on the provider? */
async function checkPlacement(
  provider: Provider,
  outputs: Readonly<Record<string, Tensor>>,
): Promise<{ allOnProvider?: boolean; fallbackDetail?: string }> {
  if (provider === "cpu") return {}; // nothing to fall back from
  try {
    const s = await ort.InferenceSession.create(lowerToOnnx(outputs).bytes, {
      executionProviders: [provider],
      extra: { session: { disable_cpu_ep_fallback: "1" } },
    });
    await s.release();
    return { allOnProvider: true };
  } catch (e) {
    return { allOnProvider: false, fallbackDetail: firstLine(e) };
  }
}

function leaves(inputs: readonly HostTensor[]): Tensor[] {
  return inputs.map((t, i) => input(`x${i}`, t.shape, t.dtype));
}

function feedsFor(
  inputs: readonly HostTensor[],
  wanted: ReadonlyMap<string, unknown>,
): Record<string, HostTensor> {
  return Object.fromEntries(
    inputs.map((t, i) => [`x${i}`, t] as const).filter(([n]) => wanted.has(n)),
  );
}

/** WebGPU has no float64: float64 host tensors become float32; other dtypes stay. */
export function toFloat32(t: HostTensor): HostTensor {
  return t.dtype === "float64"
    ? hostTensor("float32", t.shape, Float32Array.from(t.data as Float64Array))
    : t;
}

function maxRelErr(got: readonly number[], want: readonly number[]): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  want.forEach((w, i) => {
    const err = Math.abs(got[i]! - w) / Math.max(1, Math.abs(w));
    worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : Math.max(worst, err);
  });
  return worst;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 300);
}
