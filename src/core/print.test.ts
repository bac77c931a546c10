import { describe, expect, it } from "vitest";
import { add, input, matmul, softmax } from "./ops/index.js";
import { printGraph } from "./print.js";
import { withScope } from "./tensor.js";

describe("printGraph", () => {
  it("prints SSA text with types and module paths", () => {
    const x = input("x", [2, 3]);
    const w = input("w", [3, 4]);
    const y = withScope("head", () => softmax(add(matmul(x, w), 1)));
    expect(printGraph({ y })).toMatchInlineSnapshot(`
      "%0 = input {name=x} : f32[2,3]
      %1 = input {name=w} : f32[3,4]
      %2 = matmul(%0, %1) : f32[2,4]   # head
      %3 = constant : f32[]   # head
      %4 = add(%2, %3) : f32[2,4]   # head
      %5 = softmax(%4) {axis=1} : f32[2,4]   # head
      return y = %5"
    `);
  });
});
