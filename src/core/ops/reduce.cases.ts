// Test cases for the reductions (run by ops.test.ts).
import { hostTensor } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import { cast } from "./elementwise.js";
import { input } from "./leaf.js";
import { argmax, max, mean, sum } from "./reduce.js";

const X = hostTensor("float64", [2, 3], [1, 5, 2, -4, 0.5, 3]);

export const REDUCE_CASES: Readonly<Record<string, OpCases>> = {
  sum: {
    shapes: [
      { build: () => sum(input("a", [2, 3, 4]), [0, 2], { keepDims: true }), shape: [1, 3, 1] },
      { build: () => sum(input("a", [2, 3])), shape: [] },
      { build: () => sum(input("a", [2, 3]), 2), error: "sum: axis 2 is out of range for rank 2" },
    ],
    forward: [
      { build: (x) => sum(x!, 1), inputs: [X], expected: [8, -0.5], shape: [2] },
      { build: (x) => sum(x!), inputs: [X], expected: [7.5], shape: [] },
    ],
    grad: [{ build: (x) => sum(x!, 0, { keepDims: true }), inputs: [X] }],
  },
  mean: {
    shapes: [{ build: () => mean(input("a", [2, 3]), -1), shape: [2] }],
    forward: [{ build: (x) => mean(x!, 0), inputs: [X], expected: [-1.5, 2.75, 2.5], shape: [3] }],
    grad: [{ build: (x) => mean(x!, [0, 1]), inputs: [X] }],
  },
  max: {
    shapes: [{ build: () => max(input("a", [2, 3]), 1, { keepDims: true }), shape: [2, 1] }],
    forward: [{ build: (x) => max(x!, 1), inputs: [X], expected: [5, 3], shape: [2] }],
    grad: [{ build: (x) => max(x!, 0), inputs: [X] }],
  },
  argmax: {
    shapes: [{ build: () => argmax(input("a", [2, 3]), -1), shape: [2] }],
    forward: [
      { build: (x) => cast(argmax(x!, 1), "float64"), inputs: [X], expected: [1, 2], shape: [2] },
    ],
    grad: "none",
  },
};
