// Test cases for graph leaves (run by ops.test.ts).
import { hostTensor } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import { add } from "./elementwise.js";
import { constant, input } from "./leaf.js";

export const LEAF_CASES: Readonly<Record<string, OpCases>> = {
  input: {
    shapes: [
      { build: () => input("x", [2, 3]), shape: [2, 3] },
      {
        build: () => input("x", [2, -3]),
        error: "input: dimensions must be non-negative integers; got [2,-3] for x",
      },
    ],
    forward: [
      {
        build: (x) => add(x!, 0),
        inputs: [hostTensor("float64", [2], [3, 4])],
        expected: [3, 4],
        shape: [2],
      },
    ],
    grad: "none",
  },
  constant: {
    shapes: [{ build: () => constant(hostTensor("float32", [2, 2])), shape: [2, 2] }],
    forward: [
      {
        build: () => constant(hostTensor("float64", [3], [1, 2, 3])),
        inputs: [],
        expected: [1, 2, 3],
        shape: [3],
      },
    ],
    grad: "none",
  },
};
