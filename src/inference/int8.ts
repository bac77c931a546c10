// Dynamic int8 quantisation of an inference graph's linear layers, as onnxruntime's
// quantize_dynamic does it: every MatMul by a constant weight (x Wᵀ, optionally + bias) becomes
// one com.microsoft DynamicQuantizeMatMul node: the weight is stored as int8 with one symmetric
// scale per output channel, the activations are quantised to uint8 per run, and the integer
// GEMM (VNNI where the CPU has it) gives float32 with the bias added. Attention's activation
// products, the patch-embedding convolution and LayerNorm stay fp32.
// Written here rather than by onnxruntime's Python quantisation tool so that `embed --int8` needs
// no Python and the rewrite sees our graph's structure (constants, Transpose of a weight).
import {
  constant,
  defineOp,
  type HostTensor,
  hostTensor,
  ShapeError,
  Tensor,
  topoSort,
} from "../core/index.js";

const dqMatMulOp = defineOp<Record<string, never>>({
  name: "dynamicQuantizeMatMul",
  shape: ([a, b, scale]) => {
    const k = a!.shape[a!.shape.length - 1];
    if (b!.shape.length !== 2 || b!.shape[0] !== k || scale!.shape[0] !== b!.shape[1]) {
      throw new ShapeError(
        "dynamicQuantizeMatMul",
        `weight must be [K, N] with K = ${k} and one scale per column; got weight [${b!.shape}], scale [${scale!.shape}]`,
      );
    }
    return [...a!.shape.slice(0, -1), b!.shape[1]!];
  },
  dtype: () => "float32",
  grad: "none",
  onnx: (b, ins) => b.node("DynamicQuantizeMatMul", ins, {}, "com.microsoft"),
});

export interface QuantizeReport {
  /** How many MatMuls were quantised, and how many of them took their bias along. */
  readonly matmuls: number;
  readonly withBias: number;
  /** Weight bytes before (fp32) and after (int8 + scales). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** Rebuilds the graph computing `outputs` with every constant-weight MatMul in int8. */
export function quantizeLinears(outputs: Readonly<Record<string, Tensor>>): {
  outputs: Record<string, Tensor>;
  report: QuantizeReport;
} {
  const order = topoSort(Object.values(outputs));
  const users = new Map<Tensor, number>();
  for (const t of order) for (const x of t.inputs) users.set(x, (users.get(x) ?? 0) + 1);
  const map = new Map<Tensor, Tensor>();
  let matmuls = 0;
  let withBias = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  const fused = new Set<Tensor>(); // matmuls whose bias add takes them over
  for (const t of order) {
    const m = (x: Tensor) => map.get(x) ?? x;
    const w = t.op.name === "matmul" ? constantWeight(t.inputs[1]!) : undefined;
    if (w) {
      const q = quantizeColumns(w);
      bytesBefore += w.data.length * 4;
      bytesAfter += q.weight.data.length + q.scale.data.length * 4;
      matmuls++;
      const ins = [m(t.inputs[0]!), constant(q.weight), constant(q.scale), constant(q.zeroPoint)];
      map.set(t, dqMatMulOp(ins, {}));
      fused.add(t);
      continue;
    }
    const bias = t.op.name === "add" ? biasOf(t, fused, users) : undefined;
    if (bias) {
      const [mm, b] = bias;
      const prev = map.get(mm)!;
      map.set(t, dqMatMulOp([...prev.inputs, b], {}));
      withBias++;
      continue;
    }
    if (t.inputs.length === 0 || !t.inputs.some((x) => map.has(x))) continue;
    map.set(t, new Tensor(t.op, t.inputs.map(m), t.attrs, t.shape, t.dtype));
  }
  const out = Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, map.get(t) ?? t]));
  return { outputs: out, report: { matmuls, withBias, bytesBefore, bytesAfter } };
}

/** The [K, N] float32 weight of `x Wᵀ` (Transpose of a constant [N, K]) or of `x W`. */
function constantWeight(b: Tensor): HostTensor<"float32"> | undefined {
  if (b.rank !== 2 || b.dtype !== "float32") return undefined;
  if (b.op.name === "constant") return (b.attrs as { value: HostTensor<"float32"> }).value;
  if (b.op.name !== "transpose" || b.inputs[0]!.op.name !== "constant") return undefined;
  const src = (b.inputs[0]!.attrs as { value: HostTensor<"float32"> }).value; // [N, K]
  const [n, k] = src.shape as [number, number];
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[j * n + i] = src.data[i * k + j]!;
  return hostTensor("float32", [k, n], out);
}

/** add(matmul, constant bias [N]) where the matmul was quantised and has no other user. */
function biasOf(
  t: Tensor,
  fused: ReadonlySet<Tensor>,
  users: ReadonlyMap<Tensor, number>,
): [Tensor, Tensor] | undefined {
  const [a, b] = t.inputs as [Tensor, Tensor];
  for (const [mm, bias] of [
    [a, b],
    [b, a],
  ] as const) {
    if (!fused.has(mm) || users.get(mm) !== 1) continue;
    if (bias.op.name !== "constant" || bias.rank !== 1 || bias.dtype !== "float32") continue;
    if (bias.shape[0] !== mm.shape[mm.rank - 1] || !sameShape(t, mm)) continue;
    return [mm, bias];
  }
  return undefined;
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
}

/** Symmetric int8 per output column: scale = max|w| / 127, zero point 0. */
function quantizeColumns(w: HostTensor<"float32">): {
  weight: HostTensor<"int8">;
  scale: HostTensor<"float32">;
  zeroPoint: HostTensor<"int8">;
} {
  const [k, n] = w.shape as [number, number];
  const scale = new Float32Array(n);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < n; j++) scale[j] = Math.max(scale[j]!, Math.abs(w.data[i * n + j]!));
  for (let j = 0; j < n; j++) scale[j] = scale[j]! > 0 ? scale[j]! / 127 : 1;
  const q = new Int8Array(k * n);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < n; j++) q[i * n + j] = Math.round(w.data[i * n + j]! / scale[j]!);
  return {
    weight: hostTensor("int8", [k, n], q),
    scale: hostTensor("float32", [n], scale),
    zeroPoint: hostTensor("int8", [n], new Int8Array(n)),
  };
}
