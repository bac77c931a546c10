// Reductions over axes with keepDims: sum, mean, max, and argmax (no gradient).
import { DTypeError } from "../errors.js";
import { defineOp, emitReduce, requireFloat, sameDtype } from "../op.js";
import { normalizeAxis, type Shape } from "../shape.js";
import type { Tensor, ValueType } from "../tensor.js";
import { cast, div, equal, mul } from "./elementwise.js";
import { expand, reshape } from "./movement.js";

interface ReduceAttrs {
  /** Normalised, sorted axes; empty means all axes. */
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

function reducedShape(x: ValueType, { axes, keepDims }: ReduceAttrs): Shape {
  const all = axes.length === 0;
  const out: number[] = [];
  x.shape.forEach((d, i) => {
    if (all || axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** The input shape with reduced axes kept as 1: the shape to broadcast a gradient from. */
function keptShape(x: ValueType, attrs: ReduceAttrs): Shape {
  return reducedShape(x, { axes: attrs.axes, keepDims: true });
}

function reducedCount(x: ValueType, { axes }: ReduceAttrs): number {
  return x.shape.reduce((n, d, i) => (axes.length === 0 || axes.includes(i) ? n * d : n), 1);
}

/** ONNX axes, or all axes spelled out (an empty list means "no-op" in some opsets). */
const onnxAxes = (x: ValueType, axes: readonly number[]): number[] =>
  axes.length === 0 ? x.shape.map((_, i) => i) : [...axes];

const sumOp = defineOp<ReduceAttrs>({
  name: "sum",
  shape: ([x], a) => reducedShape(x!, a),
  dtype: sameDtype("sum"),
  grad: ({ ins: [x], dout, attrs }) => [expand(reshape(dout, keptShape(x!, attrs)), x!.shape)],
  onnx: (b, [x], { axes, keepDims }, _, [xt]) =>
    emitReduce(b, "ReduceSum", x!, onnxAxes(xt!, axes), keepDims),
});

const meanOp = defineOp<ReduceAttrs>({
  name: "mean",
  shape: ([x], a) => reducedShape(x!, a),
  dtype: requireFloat("mean"),
  grad: ({ ins: [x], dout, attrs }) => [
    expand(reshape(div(dout, reducedCount(x!, attrs)), keptShape(x!, attrs)), x!.shape),
  ],
  onnx: (b, [x], { axes, keepDims }, _, [xt]) =>
    emitReduce(b, "ReduceMean", x!, onnxAxes(xt!, axes), keepDims),
});

// The gradient goes to every position equal to the maximum (ties share it, unscaled).
const maxOp = defineOp<ReduceAttrs>({
  name: "max",
  shape: ([x], a) => reducedShape(x!, a),
  dtype: sameDtype("max"),
  grad: ({ ins: [x], out, dout, attrs }) => {
    const kept = keptShape(x!, attrs);
    const hit = cast(equal(x!, reshape(out, kept)), x!.dtype);
    return [mul(hit, reshape(dout, kept))];
  },
  onnx: (b, [x], { axes, keepDims }, _, [xt]) =>
    emitReduce(b, "ReduceMax", x!, onnxAxes(xt!, axes), keepDims),
});

const argmaxOp = defineOp<{ readonly axis: number; readonly keepDims: boolean }>({
  name: "argmax",
  shape: ([x], { axis, keepDims }) => reducedShape(x!, { axes: [axis], keepDims }),
  dtype: ([x]) => {
    if (x!.dtype === "bool") throw new DTypeError("argmax", "expects a numeric input; got bool");
    return "int64";
  },
  grad: "none",
  onnx: (b, ins, { axis, keepDims }) =>
    b.node("ArgMax", ins, { axis, keepdims: keepDims ? 1 : 0, select_last_index: 0 }),
});

export interface ReduceOptions {
  readonly keepDims?: boolean;
}

function axesOf(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return [];
  const list = typeof axes === "number" ? [axes] : axes;
  return [...new Set(list.map((a) => normalizeAxis(op, a, x.rank)))].sort((p, q) => p - q);
}

/** Sum over `axes` (all axes when omitted). */
export function sum(
  x: Tensor,
  axes?: number | readonly number[],
  opts: ReduceOptions = {},
): Tensor {
  return sumOp([x], { axes: axesOf("sum", x, axes), keepDims: opts.keepDims ?? false });
}

export function mean(
  x: Tensor,
  axes?: number | readonly number[],
  opts: ReduceOptions = {},
): Tensor {
  return meanOp([x], { axes: axesOf("mean", x, axes), keepDims: opts.keepDims ?? false });
}

export function max(
  x: Tensor,
  axes?: number | readonly number[],
  opts: ReduceOptions = {},
): Tensor {
  return maxOp([x], { axes: axesOf("max", x, axes), keepDims: opts.keepDims ?? false });
}

/** Index of the first maximum along `axis` (int64). */
export function argmax(x: Tensor, axis: number, opts: ReduceOptions = {}): Tensor {
  return argmaxOp([x], {
    axis: normalizeAxis("argmax", axis, x.rank),
    keepDims: opts.keepDims ?? false,
  });
}

export const REDUCE_OPS = [sumOp.def, meanOp.def, maxOp.def, argmaxOp.def] as const;
