// Test cases for the movement primitives (run by ops.test.ts).
import { hostTensor } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import { input } from "./leaf.js";
import { concat, expand, gather, indexAdd, pad, reshape, slice, transpose } from "./movement.js";

const f64 = (shape: readonly number[], v: readonly number[]) => hostTensor("float64", shape, v);
const X = f64([2, 3], [1, 2, 3, 4, 5, 6]);
const idx = (v: readonly number[]) => hostTensor("int64", [v.length], v);

export const MOVEMENT_CASES: Readonly<Record<string, OpCases>> = {
  reshape: {
    shapes: [
      { build: () => reshape(input("a", [2, 3, 4]), [6, -1]), shape: [6, 4] },
      {
        build: () => reshape(input("a", [2, 3]), [4, 2]),
        error: "reshape: element counts differ; got [2, 3] -> [4, 2]",
      },
      {
        build: () => reshape(input("a", [6]), [4, -1]),
        error:
          "reshape: 6 elements do not divide into the known sizes (product 4); got [6] -> [4, -1]",
      },
      {
        build: () => reshape(input("a", [6]), [-2, -3]),
        error: "reshape: target sizes must be integers >= 0 or a single -1; got [6] -> [-2, -3]",
      },
      {
        build: () => reshape(input("a", [6]), [-1, -1]),
        error: "reshape: at most one target size may be -1; got [6] -> [-1, -1]",
      },
      {
        build: () => reshape(input("a", [0, 3]), [0, -1]),
        error:
          "reshape: 0 elements do not divide into the known sizes (product 0); got [0, 3] -> [0, -1]",
      },
    ],
    forward: [
      {
        build: (x) => reshape(x!, [3, 2]),
        inputs: [X],
        expected: [1, 2, 3, 4, 5, 6],
        shape: [3, 2],
      },
    ],
    grad: [{ build: (x) => reshape(x!, [6]), inputs: [X] }],
  },
  transpose: {
    shapes: [
      { build: () => transpose(input("a", [2, 3, 4]), [2, 0, 1]), shape: [4, 2, 3] },
      {
        build: () => transpose(input("a", [2, 3]), [0, 0]),
        error: "transpose: perm [0,0] is not a permutation of 2 axes",
      },
    ],
    forward: [
      {
        build: (x) => transpose(x!, [1, 0]),
        inputs: [X],
        expected: [1, 4, 2, 5, 3, 6],
        shape: [3, 2],
      },
    ],
    grad: [{ build: (x) => transpose(x!, [1, 0]), inputs: [X] }],
  },
  expand: {
    shapes: [
      { build: () => expand(input("a", [3, 1]), [2, 3, 4]), shape: [2, 3, 4] },
      {
        build: () => expand(input("a", [3]), [2, 4]),
        error: "expand: cannot broadcast [3] to [2, 4]",
      },
    ],
    forward: [
      {
        build: (x) => expand(x!, [2, 2]),
        inputs: [f64([2, 1], [7, 8])],
        expected: [7, 7, 8, 8],
        shape: [2, 2],
      },
    ],
    grad: [{ build: (x) => expand(x!, [4, 2, 3]), inputs: [X] }],
  },
  slice: {
    shapes: [
      { build: () => slice(input("a", [5, 4]), 0, 1, -1), shape: [3, 4] },
      {
        build: () => slice(input("a", [5, 4]), 2, 0),
        error: "slice: axis 2 is out of range for rank 2",
      },
    ],
    forward: [
      { build: (x) => slice(x!, 1, 1, 3), inputs: [X], expected: [2, 3, 5, 6], shape: [2, 2] },
    ],
    grad: [{ build: (x) => slice(x!, 1, 0, 2), inputs: [X] }],
  },
  pad: {
    shapes: [
      { build: () => pad(input("a", [2, 3]), [1, 0, 0, 2]), shape: [3, 5] },
      {
        build: () => pad(input("a", [2, 3]), [1, 0]),
        error: "pad: pads must be 4 non-negative integers (befores, then afters); got [1,0]",
      },
    ],
    forward: [
      {
        build: (x) => pad(x!, [0, 1, 0, 0]),
        inputs: [X],
        expected: [0, 1, 2, 3, 0, 4, 5, 6],
        shape: [2, 4],
      },
    ],
    grad: [{ build: (x) => pad(x!, [1, 0, 0, 1]), inputs: [X] }],
  },
  concat: {
    shapes: [
      { build: () => concat([input("a", [2, 3]), input("b", [2, 1])], 1), shape: [2, 4] },
      {
        build: () => concat([input("a", [2, 3]), input("b", [3, 1])], 1),
        error: "concat: shapes differ off axis 1; got [2, 3], [3, 1]",
      },
    ],
    forward: [
      {
        build: (a, b) => concat([a!, b!], 0),
        inputs: [X, f64([1, 3], [7, 8, 9])],
        expected: [1, 2, 3, 4, 5, 6, 7, 8, 9],
        shape: [3, 3],
      },
    ],
    grad: [{ build: (a, b) => concat([a!, b!], 1), inputs: [X, f64([2, 1], [7, 8])] }],
  },
  gather: {
    shapes: [
      { build: () => gather(input("a", [5, 4]), input("i", [2, 3], "int64"), 0), shape: [2, 3, 4] },
      {
        build: () => gather(input("a", [5, 4]), input("i", [2]), 0),
        error: "gather: indices must be int64 or int32; got float32",
      },
    ],
    forward: [
      {
        build: (x, i) => gather(x!, i!, 1),
        inputs: [X, idx([2, 0, 2])],
        expected: [3, 1, 3, 6, 4, 6],
        shape: [2, 3],
      },
    ],
    grad: [
      {
        build: (x, i) => gather(x!, i!, 0),
        inputs: [f64([3, 2], [1, 2, 3, 4, 5, 6]), hostTensor("int64", [2, 2], [2, 0, 2, 1])],
      },
    ],
  },
  indexAdd: {
    shapes: [
      {
        build: () => indexAdd(input("a", [5, 4]), 0, input("i", [3], "int64"), input("u", [3, 4])),
        shape: [5, 4],
      },
      {
        build: () => indexAdd(input("a", [5, 4]), 0, input("i", [3], "int64"), input("u", [2, 4])),
        error: "indexAdd: updates must be [3, 4] for 1-D indices [3]; got [2, 4]",
      },
    ],
    forward: [
      {
        build: (x, i, u) => indexAdd(x!, 0, i!, u!),
        inputs: [f64([3, 2], [0, 0, 0, 0, 0, 0]), idx([2, 0, 2]), f64([3, 2], [1, 2, 3, 4, 5, 6])],
        expected: [3, 4, 0, 0, 6, 8],
        shape: [3, 2],
      },
    ],
    grad: [
      {
        build: (x, i, u) => indexAdd(x!, 1, i!, u!),
        inputs: [X, idx([1, 1]), f64([2, 2], [0.5, -1, 2, 3])],
        wrt: [0, 2],
      },
    ],
  },
};
