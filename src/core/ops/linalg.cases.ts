// Test cases for matmul (run by ops.test.ts).
import { hostTensor } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import { input } from "./leaf.js";
import { matmul } from "./linalg.js";

const f64 = (shape: readonly number[], v: readonly number[]) => hostTensor("float64", shape, v);

export const LINALG_CASES: Readonly<Record<string, OpCases>> = {
  matmul: {
    shapes: [
      { build: () => matmul(input("a", [4, 1, 2, 3]), input("b", [5, 3, 7])), shape: [4, 5, 2, 7] },
      {
        build: () => matmul(input("a", [2, 197, 384]), input("b", [768, 1152])),
        error:
          "matmul: inner dimensions differ; got [2, 197, 384] @ [768, 1152] (384 ≠ 768)\n  hint: was the Linear built with inFeatures equal to the input's last dimension?",
      },
    ],
    forward: [
      {
        build: (a, b) => matmul(a!, b!),
        inputs: [f64([2, 3], [1, 2, 3, 4, 5, 6]), f64([3, 2], [1, 0, 0, 1, 1, 1])],
        expected: [4, 5, 10, 11],
        shape: [2, 2],
      },
    ],
    grad: [
      {
        build: (a, b) => matmul(a!, b!),
        inputs: [
          f64([2, 2, 3], [1, -2, 3, 0.5, 5, -6, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
          f64([3, 2], [1, 0.5, -1, 1, 2, 0.1]),
        ],
      },
    ],
  },
};
