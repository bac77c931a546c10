// The grad engine: broadcasting, accumulation over paths, unused inputs, stopGradient, errors.
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { grad } from "./grad.js";
import { hostTensor, toNumbers } from "./host-tensor.js";
import { add, input, mul, stopGradient, sum } from "./ops/index.js";
import { printGraph } from "./print.js";
import { withScope } from "./tensor.js";

async function evaluate(
  outputs: Record<string, ReturnType<typeof input>>,
  feeds: Record<string, number[]>,
) {
  const rt = await testRuntime();
  const exe = await rt.compile(outputs);
  const hf = Object.fromEntries(
    [...exe.inputs].map(([n, t]) => [n, hostTensor(t.dtype, t.shape, feeds[n]!)]),
  );
  const out = await exe.run(hf);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, toNumbers(v)]));
}

describe("grad", () => {
  it("sums a broadcast operand's gradient back to its shape", async () => {
    const x = input("x", [2, 3]);
    const b = input("b", [3]);
    const [gb] = grad(sum(mul(add(x, b), 2)), [b]);
    expect(gb!.shape).toEqual([3]);
    const r = await evaluate({ gb: gb! }, { x: [1, 2, 3, 4, 5, 6], b: [0, 0, 0] });
    expect(r.gb).toEqual([4, 4, 4]);
  });

  it("accumulates gradients over every path", async () => {
    const x = input("x", [2]);
    const [g] = grad(sum(mul(x, x)), [x]); // d/dx x*x = 2x via two uses of x
    expect((await evaluate({ g: g! }, { x: [3, -1] })).g).toEqual([6, -2]);
  });

  it("gives zeros for an input the loss does not depend on", async () => {
    const x = input("x", [2]);
    const y = input("y", [2]);
    const [gy] = grad(sum(x), [y]);
    expect((await evaluate({ gy: gy! }, {})).gy).toEqual([0, 0]);
  });

  it("stops gradients at stopGradient", async () => {
    const x = input("x", [2]);
    const [g] = grad(sum(mul(x, stopGradient(x))), [x]);
    expect((await evaluate({ g: g! }, { x: [3, -1] })).g).toEqual([3, -1]);
  });

  it("refuses a non-scalar loss with a hint", () => {
    const x = input("x", [2, 2]);
    expect(() => grad(x, [x])).toThrowErrorMatchingInlineSnapshot(`
      [ShapeError: grad: loss must be a scalar; got [2, 2]
        hint: reduce the loss with sum() or mean(), or pass a seed of the loss's shape]
    `);
  });

  it("tags backward nodes with the forward module path", () => {
    const x = input("x", [2]);
    const y = withScope("blocks.0.mlp", () => mul(x, x));
    const [g] = grad(sum(y), [x]);
    expect(printGraph({ g: g! })).toContain("# grad.blocks.0.mlp");
  });
});

describe("errors at build time", () => {
  it("names the op, the shapes and the module path", () => {
    const x = input("x", [2, 3]);
    const w = input("w", [4, 5]);
    expect(() =>
      withScope("student.backbone.blocks.0.attn", () => add(x, w)),
    ).toThrowErrorMatchingInlineSnapshot(`
      [ShapeError: add: shapes do not broadcast; got [2, 3] and [4, 5]
        at student.backbone.blocks.0.attn]
    `);
  });
});
