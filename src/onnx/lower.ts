// Graph -> ONNX ModelProto bytes, through each op's own `onnx` rule. Same graph, same bytes.
import {
  DTYPE_BYTES,
  type HostTensor,
  InternalError,
  type Tensor,
  topoSort,
  type ValueType,
} from "../core/index.js";
import { type NodeRecord, ONNX_DTYPE, ONNX_IR_VERSION, OnnxBuilder } from "./builder.js";
import { ProtoWriter } from "./proto.js";

/** Protobuf messages cannot exceed 2 GiB; larger weights must go to an external data file. */
const PROTO_LIMIT_BYTES = 2 ** 31 - 1;

export interface LowerOptions {
  readonly graphName?: string;
  /**
   * Write initializers larger than 1 KiB to this external data file name (relative to the model
   * file). Required when the weights exceed 2 GiB.
   */
  readonly externalDataFile?: string;
  /** Largest total of inline constants; default just under protobuf's 2 GiB (tests lower it). */
  readonly maxInlineBytes?: number;
  /** Default-domain opset to write (default ONNX_OPSET); ops spell themselves for it. */
  readonly opset?: number;
  /** Input and output dimensions to leave symbolic: value name -> { axis: dim_param }. */
  readonly dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

export interface LoweredModel {
  readonly bytes: Uint8Array;
  /** Chunks of the external data file, in order, when `externalDataFile` was given. */
  readonly externalData: readonly Uint8Array[];
  /** The external data file name the model refers to, when `externalDataFile` was given. */
  readonly externalDataFile?: string;
  /** Graph inputs in order; dynamic axes have -1. */
  readonly inputs: ReadonlyMap<string, ValueType>;
  readonly outputNames: readonly string[];
}

export class OnnxExportError extends Error {
  override readonly name = "OnnxExportError";
}

/** Lowers the graph that computes `outputs` (named) to an ONNX model. */
export function lowerToOnnx(
  outputs: Readonly<Record<string, Tensor>>,
  opts: LowerOptions = {},
): LoweredModel {
  const b = new OnnxBuilder(opts.opset);
  const names = new Map<Tensor, string>();
  const order = topoSort(Object.values(outputs));
  const wanted = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(outputs)) if (!wanted.has(t)) wanted.set(t, name);
  for (const t of order) {
    b.scope = t.scope;
    const ins = t.inputs.map((x) => names.get(x)!);
    let name = t.op.onnx(b, ins, t.attrs, t, t.inputs);
    const out = wanted.get(t);
    if (out !== undefined && t.inputs.length > 0 && !isShared(b, name)) {
      b.nameOutput(name, out);
      name = out;
    }
    names.set(t, name);
  }
  b.scope = "";
  for (const [name, t] of Object.entries(outputs)) {
    if (names.get(t) !== name) b.nameOutput(names.get(t)!, name);
  }
  const outTypes = Object.entries(outputs).map(([n, t]) => [n, t as ValueType] as const);
  return encodeModel(b, outTypes, opts);
}

/** A value that is an initializer or graph input cannot be renamed. */
function isShared(b: OnnxBuilder, name: string): boolean {
  return b.inputs.has(name) || b.initializers.some((i) => i.name === name);
}

function encodeModel(
  b: OnnxBuilder,
  outputs: readonly (readonly [string, ValueType])[],
  opts: LowerOptions,
): LoweredModel {
  const g = new ProtoWriter();
  for (const n of b.nodes) g.message(1, encodeNode(n));
  g.string(2, opts.graphName ?? "dinov2_ts");
  const external: Uint8Array[] = [];
  let offset = 0;
  let inlineBytes = 0;
  for (const init of b.initializers) {
    const raw = rawBytes(init.value);
    if (opts.externalDataFile && raw.length > 1024) {
      const pad = (64 - (offset % 64)) % 64; // aligned for mmap
      if (pad) external.push(new Uint8Array(pad));
      offset += pad;
      g.message(
        5,
        encodeTensor(init.name, init.value, undefined, {
          file: opts.externalDataFile,
          offset,
          length: raw.length,
        }),
      );
      external.push(raw);
      offset += raw.length;
    } else {
      inlineBytes += raw.length;
      g.message(5, encodeTensor(init.name, init.value, raw));
    }
  }
  if (inlineBytes > (opts.maxInlineBytes ?? PROTO_LIMIT_BYTES - 64 * 1024 * 1024)) {
    throw new OnnxExportError(
      `the graph holds ${(inlineBytes / 2 ** 30).toFixed(2)} GiB of constants, over ONNX's 2 GiB protobuf limit; lower it with externalDataFile (e.g. "model.onnx.data")`,
    );
  }
  for (const [name, type] of b.inputs)
    g.message(11, encodeValueInfo(name, type, opts.dynamicAxes?.[name]));
  for (const [name, type] of outputs)
    g.message(12, encodeValueInfo(name, type, opts.dynamicAxes?.[name]));
  const m = new ProtoWriter();
  m.varint(1, ONNX_IR_VERSION);
  m.string(2, "dinov2-ts");
  m.message(7, g);
  m.message(8, new ProtoWriter().string(1, "").varint(2, b.opset));
  m.message(8, new ProtoWriter().string(1, "com.microsoft").varint(2, 1));
  return {
    bytes: m.finish(),
    externalData: external,
    ...(opts.externalDataFile ? { externalDataFile: opts.externalDataFile } : {}),
    inputs: new Map(
      [...b.inputs].map(([n, t]) => {
        const dyn = opts.dynamicAxes?.[n] ?? {};
        return [n, { dtype: t.dtype, shape: t.shape.map((d, i) => (i in dyn ? -1 : d)) }] as const;
      }),
    ),
    outputNames: outputs.map(([n]) => n),
  };
}

function encodeNode(n: NodeRecord): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const key of Object.keys(n.attrs).sort()) w.message(5, encodeAttr(key, n.attrs[key]!));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeAttr(name: string, v: NodeRecord["attrs"][string]): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === "number") return w.varint(3, v).varint(20, 2);
  if (typeof v === "string") return w.string(4, v).varint(20, 3);
  if (Array.isArray(v)) return w.packedVarints(8, v as number[]).varint(20, 7);
  if ("f" in v) return w.float(2, v.f).varint(20, 1);
  if ("fs" in v) return w.packedFloats(7, v.fs).varint(20, 6);
  if ("t" in v) return w.message(5, encodeTensor("", v.t, rawBytes(v.t))).varint(20, 4);
  throw new InternalError(`unknown ONNX attribute form for ${name}`);
}

interface ExternalRef {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

function encodeTensor(
  name: string,
  t: HostTensor,
  raw?: Uint8Array,
  ext?: ExternalRef,
): ProtoWriter {
  const w = new ProtoWriter();
  w.packedVarints(1, t.shape);
  w.varint(2, ONNX_DTYPE[t.dtype]);
  if (name) w.string(8, name);
  if (raw) w.bytes(9, raw);
  if (ext) {
    const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v);
    w.message(13, entry("location", ext.file));
    w.message(13, entry("offset", String(ext.offset)));
    w.message(13, entry("length", String(ext.length)));
    w.varint(14, 1);
  }
  return w;
}

function encodeValueInfo(
  name: string,
  t: ValueType,
  dynamic?: Readonly<Record<number, string>>,
): ProtoWriter {
  const shape = new ProtoWriter();
  t.shape.forEach((d, axis) => {
    const dim = new ProtoWriter();
    const param = dynamic?.[axis];
    if (param !== undefined) dim.string(2, param);
    else dim.varint(1, d);
    shape.message(1, dim);
  });
  const tensorType = new ProtoWriter().varint(1, ONNX_DTYPE[t.dtype]).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Little-endian bytes of a host tensor (a view, no copy, on little-endian hosts). */
function rawBytes(t: HostTensor): Uint8Array {
  const d = t.data as ArrayBufferView;
  const n = d.byteLength;
  if (n !== t.data.length * DTYPE_BYTES[t.dtype])
    throw new InternalError("host tensor byte length");
  return new Uint8Array(d.buffer, d.byteOffset, n);
}
