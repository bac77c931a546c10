// Lowering with a symbolic batch axis. Our graphs have static shapes (Reshape/Expand targets are
// int64 constants), so the graph is traced at two batch sizes and every shape constant that
// differs between them is emitted as batch·k, computed from the batch input's Shape at run time.
import {
  type HostTensor,
  InternalError,
  type OnnxAttr,
  type OnnxEmitter,
  type OpDef,
  Tensor,
  topoSort,
  withScope,
} from "../core/index.js";
import { type LoweredModel, type LowerOptions, lowerToOnnx, ONNX_OPSET } from "../onnx/index.js";

/** Builds the graph's named outputs for one batch size. */
export type BatchGraphBuilder = (batch: number) => Readonly<Record<string, Tensor>>;

export interface DynamicBatchOptions extends Omit<LowerOptions, "dynamicAxes"> {
  /** The dim_param of the batch axis in the model's inputs and outputs (default "batch"). */
  readonly axisName?: string;
}

/** The graph does not scale with the batch size in a way a symbolic batch axis can express. */
export class DynamicBatchError extends Error {
  override readonly name = "DynamicBatchError";
}

/** Two batch sizes to compare; neither is 1, where some shape constants could coincide. */
const PROBE_BATCHES = [2, 3] as const;

/**
 * Lowers `build` with axis 0 of every batch-carrying input and output symbolic. Throws a
 * DynamicBatchError when a constant other than an int64 shape vector depends on the batch.
 */
export function lowerDynamicBatch(
  build: BatchGraphBuilder,
  opts: DynamicBatchOptions = {},
): LoweredModel {
  const [ba, bb] = PROBE_BATCHES;
  const graphA = build(ba);
  const graphB = build(bb);
  const plan = planBatchConstants(graphA, graphB, ba, bb);
  const axis = opts.axisName ?? "batch";
  const batchInputs = [...plan.batchInputs];
  const batchSource = batchInputs[0];
  if (batchSource === undefined) {
    throw batchError("no graph input changes with the batch size");
  }
  const outputs = rebuild(graphA, plan, batchSource);
  const dynamicAxes = Object.fromEntries(
    [...batchInputs, ...Object.keys(outputs)].map((name) => [name, { 0: axis }]),
  );
  const { axisName: _, ...lowerOpts } = opts;
  return lowerToOnnx(outputs, { ...lowerOpts, dynamicAxes });
}

/** For node i of the topological order: its constInt64 calls, with batch factors where scaled. */
interface BatchPlan {
  readonly batchInputs: ReadonlySet<string>;
  /** node index -> call index -> per-entry factor k (value = k·batch), or null for a fixed entry. */
  readonly scaled: ReadonlyMap<number, ReadonlyMap<number, readonly (number | null)[]>>;
}

/** A record of everything one node's lowering asks of the emitter. */
interface EmitterCall {
  readonly kind: "node" | "int64" | "scalar" | "tensor" | "input";
  /** Everything but int64 vectors, for an exact comparison. */
  readonly key: string;
  readonly ints?: readonly number[];
  readonly value?: HostTensor;
}

function planBatchConstants(
  a: Readonly<Record<string, Tensor>>,
  b: Readonly<Record<string, Tensor>>,
  ba: number,
  bb: number,
): BatchPlan {
  const orderA = topoSort(Object.values(a));
  const orderB = topoSort(Object.values(b));
  if (orderA.length !== orderB.length || Object.keys(a).join() !== Object.keys(b).join()) {
    throw batchError(
      `the graph changes with the batch size; got ${orderA.length} nodes at batch ${ba}, ${orderB.length} at batch ${bb}`,
    );
  }
  const batchInputs = new Set<string>();
  const scaled = new Map<number, Map<number, (number | null)[]>>();
  const position = new Map<Tensor, number>(
    [...orderA.entries(), ...orderB.entries()].map(([i, t]) => [t, i]),
  );
  orderA.forEach((ta, i) => {
    const tb = orderB[i]!;
    const callsA = recordLowering(ta);
    const callsB = recordLowering(tb);
    const where = `node ${i} (${ta.op.name}${ta.scope ? ` at ${ta.scope}` : ""})`;
    const wiring = (t: Tensor) => t.inputs.map((x) => position.get(x)).join();
    if (ta.op !== tb.op || wiring(ta) !== wiring(tb) || callsA.length !== callsB.length) {
      throw batchError(`${where} differs between batch ${ba} and ${bb}`);
    }
    if (callsA.some((c) => c.kind === "input") && ta.shape.join() !== tb.shape.join()) {
      checkBatchAxis(ta.shape, tb.shape, ba, bb, where);
      batchInputs.add(callsA.find((c) => c.kind === "input")!.key);
    }
    callsA.forEach((ca, j) => {
      const cb = callsB[j]!;
      if (ca.kind !== cb.kind || ca.key !== cb.key || !sameData(ca.value, cb.value)) {
        throw batchError(
          `${where}: its ${ca.kind} changes with the batch; got ${ca.key} at batch ${ba}, ${cb.key} at batch ${bb}`,
        );
      }
      const factors = ca.ints && batchFactors(ca.ints, cb.ints!, ba, bb, where);
      if (factors) {
        const perNode = scaled.get(i) ?? new Map<number, (number | null)[]>();
        perNode.set(j, factors);
        scaled.set(i, perNode);
      }
    });
  });
  return { batchInputs, scaled };
}

/** Runs one node's ONNX rule against a recorder (node outputs get placeholder names). */
function recordLowering(t: Tensor): EmitterCall[] {
  const calls: EmitterCall[] = [];
  let n = 0;
  const rec: OnnxEmitter = {
    opset: ONNX_OPSET,
    node: (opType, inputs, attrs, domain) => {
      calls.push({ kind: "node", key: JSON.stringify([opType, inputs, attrKey(attrs), domain]) });
      return `%${n++}`;
    },
    constInt64: (values) => {
      calls.push({ kind: "int64", key: String(values.length), ints: [...values] });
      return `%${n++}`;
    },
    constScalar: (value, dtype) => {
      calls.push({ kind: "scalar", key: `${dtype}:${value}` });
      return `%${n++}`;
    },
    constTensor: (value) => {
      calls.push({ kind: "tensor", key: `${value.dtype}[${value.shape}]`, value });
      return `%${n++}`;
    },
    input: (name) => {
      calls.push({ kind: "input", key: name });
      return name;
    },
    nodeOutput: (first, index) => {
      calls.push({ kind: "node", key: JSON.stringify(["output", first, index]) });
      return `%${n++}`;
    },
  };
  t.op.onnx(
    rec,
    t.inputs.map((_, k) => `in${k}`),
    t.attrs,
    t,
    t.inputs,
  );
  return calls;
}

/** Per entry: k where a = k·ba and b = k·bb, null where a = b; undefined when nothing scales. */
function batchFactors(
  a: readonly number[],
  b: readonly number[],
  ba: number,
  bb: number,
  where: string,
): (number | null)[] | undefined {
  if (a.length !== b.length)
    throw batchError(`${where}: a shape vector changes length with the batch`);
  if (a.every((v, i) => v === b[i])) return undefined;
  return a.map((v, i) => {
    if (v === b[i]) return null;
    const k = v / ba;
    if (!Number.isInteger(k) || k * bb !== b[i]) {
      throw batchError(
        `${where}: shape entry ${i} is not a multiple of the batch; got ${v} at batch ${ba}, ${b[i]} at batch ${bb}`,
      );
    }
    return k;
  });
}

function checkBatchAxis(
  a: readonly number[],
  b: readonly number[],
  ba: number,
  bb: number,
  where: string,
): void {
  const ok =
    a.length === b.length && a[0] === ba && b[0] === bb && a.every((d, i) => i === 0 || d === b[i]);
  if (!ok) {
    throw batchError(
      `${where}: the input's batch must be axis 0; got [${a}] at ${ba} and [${b}] at ${bb}`,
    );
  }
}

/** The graph with the scaled nodes' shape constants computed from the batch input's size. */
function rebuild(
  outputs: Readonly<Record<string, Tensor>>,
  plan: BatchPlan,
  batchSource: string,
): Record<string, Tensor> {
  const order = topoSort(Object.values(outputs));
  const copies = new Map<Tensor, Tensor>();
  const batchNames = new WeakMap<OnnxEmitter, string>();
  order.forEach((t, i) => {
    const perNode = plan.scaled.get(i);
    const op = perNode ? withBatchShapes(t.op, perNode, batchSource, batchNames) : t.op;
    const inputs = t.inputs.map((x) => copies.get(x)!);
    copies.set(
      t,
      withScope(t.scope, () => new Tensor(op, inputs, t.attrs, t.shape, t.dtype)),
    );
  });
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, copies.get(t)!]));
}

/** The op with its ONNX rule's scaled int64 vectors replaced by Concat(fixed parts, batch·k). */
function withBatchShapes(
  // biome-ignore lint/suspicious/noExplicitAny: nodes store their op erased (as Tensor.op does).
  def: OpDef<any>,
  perCall: ReadonlyMap<number, readonly (number | null)[]>,
  batchSource: string,
  batchNames: WeakMap<OnnxEmitter, string>,
  // biome-ignore lint/suspicious/noExplicitAny: as above.
): OpDef<any> {
  return {
    ...def,
    onnx: (b, ins, attrs, out, inTypes) => {
      let call = 0;
      const counted = <T>(value: T): T => {
        call++;
        return value;
      };
      const emitter: OnnxEmitter = {
        opset: b.opset,
        node: (...args) => counted(b.node(...args)),
        constScalar: (...args) => counted(b.constScalar(...args)),
        constTensor: (...args) => counted(b.constTensor(...args)),
        input: (...args) => counted(b.input(...args)),
        nodeOutput: (...args) => counted(b.nodeOutput(...args)),
        constInt64: (values) => {
          const factors = perCall.get(call++);
          return factors
            ? scaledVector(b, values, factors, batchOf(b, batchSource, batchNames))
            : b.constInt64(values);
        },
      };
      return def.onnx(emitter, ins, attrs, out, inTypes);
    },
  };
}

/** int64[1] holding the run-time batch: Shape(source)[0:1], emitted once per model. */
function batchOf(b: OnnxEmitter, source: string, cache: WeakMap<OnnxEmitter, string>): string {
  let name = cache.get(b);
  if (!name) {
    name = b.node("Shape", [source], { end: 1, start: 0 });
    cache.set(b, name);
  }
  return name;
}

function scaledVector(
  b: OnnxEmitter,
  values: readonly number[],
  factors: readonly (number | null)[],
  batch: string,
): string {
  if (factors.length !== values.length)
    throw new InternalError("batch plan does not match the lowering");
  const parts: string[] = [];
  let fixed: number[] = [];
  values.forEach((v, i) => {
    const k = factors[i];
    if (k === null || k === undefined) {
      fixed.push(v);
      return;
    }
    if (fixed.length > 0) parts.push(b.constInt64(fixed));
    fixed = [];
    parts.push(k === 1 ? batch : b.node("Mul", [batch, b.constInt64([k])]));
  });
  if (fixed.length > 0) parts.push(b.constInt64(fixed));
  return parts.length === 1 ? parts[0]! : b.node("Concat", parts, { axis: 0 });
}

/** Constants shared by reference (the weights) are equal without reading them. */
function sameData(a: HostTensor | undefined, b: HostTensor | undefined): boolean {
  if (a === b || a?.data === b?.data) return true;
  if (!a || !b || a.data.length !== b.data.length) return false;
  const da = a.data as ArrayLike<number | bigint>;
  const db = b.data as ArrayLike<number | bigint>;
  for (let i = 0; i < da.length; i++)
    if (da[i] !== db[i] && !(Number.isNaN(da[i]) && Number.isNaN(db[i]))) return false;
  return true;
}

function attrKey(attrs: Readonly<Record<string, OnnxAttr>> | undefined): string {
  if (!attrs) return "";
  return JSON.stringify(
    Object.keys(attrs)
      .sort()
      .map((k) => {
        const v = attrs[k]!;
        return typeof v === "object" && "t" in v ? [k, `${v.t.dtype}[${v.t.shape}]`] : [k, v];
      }),
  );
}

function batchError(what: string): DynamicBatchError {
  return new DynamicBatchError(
    `lowerDynamicBatch: ${what}\n  hint: only int64 shape vectors may scale with the batch; export with a fixed batch`,
  );
}
