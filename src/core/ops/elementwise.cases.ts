// Test cases for the elementwise primitives (run by ops.test.ts).
import { hostTensor } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import * as E from "./elementwise.js";
import { input } from "./leaf.js";

const f64 = (shape: readonly number[], v: readonly number[]) => hostTensor("float64", shape, v);
const X = f64([2, 3], [-1.5, -0.4, 0.1, 0.3, 0.9, 1.7]);
const POS = f64([2, 3], [0.2, 0.5, 0.9, 1.3, 2.0, 3.1]);
const Y = f64([3], [0.7, -1.2, 2.5]);
const XV = [-1.5, -0.4, 0.1, 0.3, 0.9, 1.7];
const PV = [0.2, 0.5, 0.9, 1.3, 2.0, 3.1];
const YV = [0.7, -1.2, 2.5];

function unaryCases(
  fn: (x: import("../tensor.js").Tensor) => import("../tensor.js").Tensor,
  ref: (v: number) => number,
  positive = false,
): OpCases {
  const inp = positive ? POS : X;
  const vals = positive ? PV : XV;
  return {
    shapes: [{ build: () => fn(input("a", [4, 5])), shape: [4, 5] }],
    forward: [{ build: fn, inputs: [inp], expected: vals.map(ref), shape: [2, 3] }],
    grad: [{ build: fn, inputs: [inp] }],
  };
}

function binaryCases(
  fn: (a: E.Operand, b: E.Operand) => import("../tensor.js").Tensor,
  ref: (a: number, b: number) => number,
  positiveA = false,
): OpCases {
  const a = positiveA ? POS : X;
  const av = positiveA ? PV : XV;
  return {
    shapes: [
      { build: () => fn(input("a", [2, 1, 3]), input("b", [4, 1])), shape: [2, 4, 3] },
      {
        build: () => fn(input("a", [2, 3]), input("b", [4])),
        error: `${fn.name}: shapes do not broadcast; got [2, 3] and [4]`,
      },
    ],
    forward: [
      {
        build: (p, q) => fn(p!, q!),
        inputs: [a, Y],
        expected: av.map((v, i) => ref(v, YV[i % 3]!)),
        shape: [2, 3],
      },
    ],
    grad: [{ build: (p, q) => fn(p!, q!), inputs: [a, Y] }],
  };
}

function compareCases(
  fn: (a: E.Operand, b: E.Operand) => import("../tensor.js").Tensor,
  ref: (a: number, b: number) => boolean,
): OpCases {
  const b = f64([3], [-0.4, 0.2, 1.7]);
  return {
    shapes: [{ build: () => fn(input("a", [2, 3]), input("b", [3])), shape: [2, 3] }],
    forward: [
      {
        build: (p, q) => E.cast(fn(p!, q!), "float64"),
        inputs: [X, b],
        expected: XV.map((v, i) => (ref(v, [-0.4, 0.2, 1.7][i % 3]!) ? 1 : 0)),
        shape: [2, 3],
      },
    ],
    grad: "none",
  };
}

export const ELEMENTWISE_CASES: Readonly<Record<string, OpCases>> = {
  neg: unaryCases(E.neg, (v) => -v),
  exp: unaryCases(E.exp, Math.exp),
  log: unaryCases(E.log, Math.log, true),
  sqrt: unaryCases(E.sqrt, Math.sqrt, true),
  erf: {
    shapes: [{ build: () => E.erf(input("a", [3])), shape: [3] }],
    // erf(0.5) and erf(1) from tables; ONNX Runtime has a float32 Erf kernel only.
    forward: [
      {
        build: E.erf,
        inputs: [hostTensor("float32", [3], [0, 0.5, 1])],
        expected: [0, 0.5204998778, 0.8427007929],
        shape: [3],
        tol: 1e-6,
      },
    ],
    grad: [{ build: E.erf, inputs: [hostTensor("float32", [2, 3], XV)], atol: 2e-3, rtol: 2e-2 }],
  },
  tanh: unaryCases(E.tanh, Math.tanh),
  sigmoid: unaryCases(E.sigmoid, (v) => 1 / (1 + Math.exp(-v))),
  abs: unaryCases(E.abs, Math.abs),
  sign: {
    ...unaryCases(E.sign, Math.sign),
    grad: [{ build: (x) => E.mul(E.sign(x!), x!), inputs: [X] }],
  },
  add: binaryCases(E.add, (a, b) => a + b),
  sub: binaryCases(E.sub, (a, b) => a - b),
  mul: binaryCases(E.mul, (a, b) => a * b),
  div: binaryCases(E.div, (a, b) => a / b),
  pow: binaryCases(E.pow, (a, b) => a ** b, true),
  maximum: binaryCases(E.maximum, Math.max),
  minimum: binaryCases(E.minimum, Math.min),
  equal: compareCases(E.equal, (a, b) => a === b),
  less: compareCases(E.less, (a, b) => a < b),
  greater: compareCases(E.greater, (a, b) => a > b),
  lessOrEqual: compareCases(E.lessOrEqual, (a, b) => a <= b),
  greaterOrEqual: compareCases(E.greaterOrEqual, (a, b) => a >= b),
  where: {
    shapes: [
      {
        build: () => E.where(input("c", [2, 1], "bool"), input("a", [3]), input("b", [2, 3])),
        shape: [2, 3],
      },
      {
        build: () => E.where(input("c", [3]), input("a", [3]), input("b", [3])),
        error: "where: condition must be bool; got float32",
      },
    ],
    forward: [
      {
        build: (c, a, b) => E.where(c!, a!, b!),
        inputs: [hostTensor("bool", [3], [1, 0, 1]), f64([3], [1, 2, 3]), f64([3], [-1, -2, -3])],
        expected: [1, -2, 3],
        shape: [3],
      },
    ],
    grad: [
      {
        build: (c, a, b) => E.where(c!, a!, b!),
        inputs: [hostTensor("bool", [2, 3], [1, 0, 1, 0, 0, 1]), X, Y],
        wrt: [1, 2],
      },
    ],
  },
  cast: {
    shapes: [{ build: () => E.cast(input("a", [2]), "int64"), shape: [2] }],
    forward: [
      {
        build: (x) => E.cast(E.cast(x!, "int32"), "float64"),
        inputs: [f64([3], [1.7, -2.2, 3])],
        expected: [1, -2, 3],
        shape: [3],
      },
    ],
    grad: [
      {
        build: (x) => E.cast(E.cast(x!, "float32"), "float64"),
        inputs: [X],
        eps: 1e-2,
        atol: 1e-5,
        rtol: 1e-5,
      },
    ],
  },
  stopGradient: {
    shapes: [{ build: () => E.stopGradient(input("a", [2])), shape: [2] }],
    forward: [{ build: E.stopGradient, inputs: [Y], expected: YV, shape: [3] }],
    // d/dx [x * stopGradient(x)] = stopGradient(x): only the direct path counts.
    grad: "none",
  },
};
