// Test cases for the fused primitives (run by ops.test.ts).
import { hostTensor } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import { input } from "./leaf.js";
import { gelu, layerNorm, logSoftmax, softmax } from "./nn.js";

const f64 = (shape: readonly number[], v: readonly number[]) => hostTensor("float64", shape, v);
const X = f64([2, 3], [1, 2, 3, -1, 0, 4]);
const sm = (v: readonly number[]) => {
  const e = v.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

export const NN_CASES: Readonly<Record<string, OpCases>> = {
  softmax: {
    shapes: [{ build: () => softmax(input("a", [2, 3, 4]), 1), shape: [2, 3, 4] }],
    forward: [
      {
        build: (x) => softmax(x!),
        inputs: [X],
        expected: [...sm([1, 2, 3]), ...sm([-1, 0, 4])],
        shape: [2, 3],
      },
    ],
    grad: [{ build: (x) => softmax(x!, 0), inputs: [X] }],
  },
  logSoftmax: {
    shapes: [{ build: () => logSoftmax(input("a", [2, 3])), shape: [2, 3] }],
    forward: [
      {
        build: (x) => logSoftmax(x!),
        inputs: [X],
        expected: [...sm([1, 2, 3]), ...sm([-1, 0, 4])].map(Math.log),
        shape: [2, 3],
      },
    ],
    grad: [{ build: (x) => logSoftmax(x!), inputs: [X] }],
  },
  gelu: {
    shapes: [{ build: () => gelu(input("a", [2, 3])), shape: [2, 3] }],
    // x Φ(x): Φ(1) = 0.841344746, Φ(-1) = 0.158655254 (tables); com.microsoft Gelu is float32.
    forward: [
      {
        build: gelu,
        inputs: [hostTensor("float32", [3], [-1, 0, 1])],
        expected: [-0.158655254, 0, 0.841344746],
        shape: [3],
        tol: 1e-6,
      },
    ],
    grad: [
      {
        build: gelu,
        inputs: [hostTensor("float32", [2, 3], [-1.5, -0.4, 0.1, 0.3, 0.9, 1.7])],
        atol: 2e-3,
        rtol: 2e-2,
      },
    ],
  },
  layerNorm: {
    shapes: [
      {
        build: () => layerNorm(input("x", [2, 5, 4]), input("w", [4]), input("b", [4])),
        shape: [2, 5, 4],
      },
      {
        build: () => layerNorm(input("x", [2, 4]), input("w", [3]), input("b", [4])),
        error: "layerNorm: weight and bias must be [4]; got [3] and [4] for input [2, 4]",
      },
    ],
    forward: [
      {
        // Row [1,2,3]: mean 2, var 2/3 -> (-1.2247, 0, 1.2247) * w + b.
        build: (x, w, b) => layerNorm(x!, w!, b!, 0),
        inputs: [f64([1, 3], [1, 2, 3]), f64([3], [1, 2, 1]), f64([3], [0, 0, 1])],
        expected: [-Math.sqrt(1.5), 0, 1 + Math.sqrt(1.5)],
        shape: [1, 3],
      },
    ],
    grad: [
      {
        build: (x, w, b) => layerNorm(x!, w!, b!, 1e-6),
        inputs: [
          f64([2, 4], [0.3, -1, 2, 0.5, 1.5, 0.2, -0.7, 0.9]),
          f64([4], [1, 0.5, -2, 1.5]),
          f64([4], [0.1, 0.2, 0.3, 0.4]),
        ],
      },
    ],
  },
};
