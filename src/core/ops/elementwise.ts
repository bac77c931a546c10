// Elementwise primitives: unary math, broadcasting binary math, comparisons, where, cast.
import type { DType } from "../dtype.js";
import { isFloat, ONNX_DTYPE } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { defineOp, requireFloat, sameDtype, sameShape, type VjpRule } from "../op.js";
import { fmtShape, type Shape, tryBroadcastShapes } from "../shape.js";
import type { Tensor, ValueType } from "../tensor.js";
import { scalar } from "./leaf.js";

export type Operand = Tensor | number;
type NoAttrs = Record<string, never>;
const NONE: NoAttrs = {};

function unaryOp(name: string, onnxType: string, grad: VjpRule<NoAttrs>) {
  return defineOp<NoAttrs>({
    name,
    shape: sameShape,
    dtype: requireFloat(name),
    grad,
    onnx: (b, ins) => b.node(onnxType, ins),
  });
}

function broadcastShape(name: string) {
  return ([a, b]: readonly ValueType[]): Shape => {
    const s = tryBroadcastShapes(a!.shape, b!.shape);
    if (!s) {
      throw new ShapeError(
        name,
        `shapes do not broadcast; got ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)}`,
      );
    }
    return s;
  };
}

function binaryOp(
  name: string,
  onnxType: string,
  grad: VjpRule<NoAttrs> | "none",
  dtype?: (ins: readonly ValueType[]) => DType,
) {
  return defineOp<NoAttrs>({
    name,
    shape: broadcastShape(name),
    dtype: dtype ?? sameDtype(name),
    grad,
    broadcasts: true,
    onnx: (b, ins) => b.node(onnxType, ins),
  });
}

const boolResult =
  (name: string) =>
  (ins: readonly ValueType[]): DType => {
    sameDtype(name)(ins);
    return "bool";
  };

/** Turns a JS number into a scalar constant of the other operand's dtype. */
function lift(a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") {
    return [scalar(a), scalar(b)];
  }
  const like = (typeof a === "number" ? b : a) as Tensor;
  return [
    typeof a === "number" ? scalar(a, like.dtype) : a,
    typeof b === "number" ? scalar(b, like.dtype) : b,
  ];
}

const negOp = unaryOp("neg", "Neg", ({ dout }) => [neg(dout)]);
const expOp = unaryOp("exp", "Exp", ({ out, dout }) => [mul(dout, out)]);
const logOp = unaryOp("log", "Log", ({ ins: [x], dout }) => [div(dout, x!)]);
const sqrtOp = unaryOp("sqrt", "Sqrt", ({ out, dout }) => [div(mul(dout, 0.5), out)]);
const erfOp = unaryOp("erf", "Erf", ({ ins: [x], dout }) => [
  mul(dout, mul(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI))),
]);
const tanhOp = unaryOp("tanh", "Tanh", ({ out, dout }) => [mul(dout, sub(1, mul(out, out)))]);
const sigmoidOp = unaryOp("sigmoid", "Sigmoid", ({ out, dout }) => [
  mul(dout, mul(out, sub(1, out))),
]);
const absOp = unaryOp("abs", "Abs", ({ ins: [x], dout }) => [mul(dout, sign(x!))]);
const signOp = unaryOp("sign", "Sign", () => [null]);

const addOp = binaryOp("add", "Add", ({ dout }) => [dout, dout]);
const subOp = binaryOp("sub", "Sub", ({ dout }) => [dout, neg(dout)]);
const mulOp = binaryOp("mul", "Mul", ({ ins: [a, b], dout }) => [mul(dout, b!), mul(dout, a!)]);
const divOp = binaryOp("div", "Div", ({ ins: [, b], out, dout }) => [
  div(dout, b!),
  neg(div(mul(dout, out), b!)),
]);
const powOp = binaryOp("pow", "Pow", ({ ins: [a, b], out, dout }) => [
  mul(dout, mul(b!, pow(a!, sub(b!, 1)))),
  mul(dout, mul(out, log(a!))),
]);
// Ties send the gradient to the first operand, like a subgradient choice.
const maximumOp = binaryOp("maximum", "Max", ({ ins: [a, b], dout }) => {
  const m = greaterOrEqual(a!, b!);
  return [where(m, dout, 0), where(m, 0, dout)];
});
const minimumOp = binaryOp("minimum", "Min", ({ ins: [a, b], dout }) => {
  const m = lessOrEqual(a!, b!);
  return [where(m, dout, 0), where(m, 0, dout)];
});

const equalOp = binaryOp("equal", "Equal", "none", boolResult("equal"));
const lessOp = binaryOp("less", "Less", "none", boolResult("less"));
const greaterOp = binaryOp("greater", "Greater", "none", boolResult("greater"));
const lessOrEqualOp = binaryOp("lessOrEqual", "LessOrEqual", "none", boolResult("lessOrEqual"));
const greaterOrEqualOp = binaryOp(
  "greaterOrEqual",
  "GreaterOrEqual",
  "none",
  boolResult("greaterOrEqual"),
);

const whereOp = defineOp<NoAttrs>({
  name: "where",
  shape: ([c, a, b]) => {
    const ab = broadcastShape("where")([a!, b!]);
    return broadcastShape("where")([c!, { shape: ab, dtype: a!.dtype }]);
  },
  dtype: ([c, a, b]) => {
    if (c!.dtype !== "bool")
      throw new DTypeError("where", `condition must be bool; got ${c!.dtype}`);
    return sameDtype("where")([a!, b!]);
  },
  broadcasts: true,
  grad: ({ ins: [c], dout }) => [null, where(c!, dout, 0), where(c!, 0, dout)],
  onnx: (b, ins) => b.node("Where", ins),
});

const castOp = defineOp<{ readonly to: DType }>({
  name: "cast",
  shape: sameShape,
  dtype: (_, { to }) => to,
  grad: ({ ins: [x], dout }) => [
    isFloat(x!.dtype) && isFloat(dout.dtype) ? cast(dout, x!.dtype) : null,
  ],
  onnx: (b, ins, { to }) => b.node("Cast", ins, { to: ONNX_DTYPE[to] }),
});

/** Identity in the forward pass; no gradient flows through it (teacher targets, softmax shift). */
const stopGradientOp = defineOp<NoAttrs>({
  name: "stopGradient",
  shape: sameShape,
  dtype: ([x]) => x!.dtype,
  grad: "none",
  onnx: (b, ins) => b.node("Identity", ins),
});

export const neg = (x: Tensor): Tensor => negOp([x], NONE);
export const exp = (x: Tensor): Tensor => expOp([x], NONE);
export const log = (x: Tensor): Tensor => logOp([x], NONE);
export const sqrt = (x: Tensor): Tensor => sqrtOp([x], NONE);
export const erf = (x: Tensor): Tensor => erfOp([x], NONE);
export const tanh = (x: Tensor): Tensor => tanhOp([x], NONE);
export const sigmoid = (x: Tensor): Tensor => sigmoidOp([x], NONE);
export const abs = (x: Tensor): Tensor => absOp([x], NONE);
export const sign = (x: Tensor): Tensor => signOp([x], NONE);
export const add = (a: Operand, b: Operand): Tensor => addOp(lift(a, b), NONE);
export const sub = (a: Operand, b: Operand): Tensor => subOp(lift(a, b), NONE);
export const mul = (a: Operand, b: Operand): Tensor => mulOp(lift(a, b), NONE);
export const div = (a: Operand, b: Operand): Tensor => divOp(lift(a, b), NONE);
export const pow = (a: Operand, b: Operand): Tensor => powOp(lift(a, b), NONE);
export const maximum = (a: Operand, b: Operand): Tensor => maximumOp(lift(a, b), NONE);
export const minimum = (a: Operand, b: Operand): Tensor => minimumOp(lift(a, b), NONE);
export const equal = (a: Operand, b: Operand): Tensor => equalOp(lift(a, b), NONE);
export const less = (a: Operand, b: Operand): Tensor => lessOp(lift(a, b), NONE);
export const greater = (a: Operand, b: Operand): Tensor => greaterOp(lift(a, b), NONE);
export const lessOrEqual = (a: Operand, b: Operand): Tensor => lessOrEqualOp(lift(a, b), NONE);
export const greaterOrEqual = (a: Operand, b: Operand): Tensor =>
  greaterOrEqualOp(lift(a, b), NONE);
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [ta, tb] = lift(a, b);
  return whereOp([cond, ta, tb], NONE);
}
export const cast = (x: Tensor, to: DType): Tensor => (x.dtype === to ? x : castOp([x], { to }));
export const stopGradient = (x: Tensor): Tensor => stopGradientOp([x], NONE);

export const ELEMENTWISE_OPS = [
  negOp.def,
  expOp.def,
  logOp.def,
  sqrtOp.def,
  erfOp.def,
  tanhOp.def,
  sigmoidOp.def,
  absOp.def,
  signOp.def,
  addOp.def,
  subOp.def,
  mulOp.def,
  divOp.def,
  powOp.def,
  maximumOp.def,
  minimumOp.def,
  equalOp.def,
  lessOp.def,
  greaterOp.def,
  lessOrEqualOp.def,
  greaterOrEqualOp.def,
  whereOp.def,
  castOp.def,
  stopGradientOp.def,
] as const;
