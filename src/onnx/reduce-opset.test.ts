// Reductions spelled for the opset: axes as an attribute up to opset 17 (ReduceSum: 12), as an
// input from opset 18 (ReduceSum: 13). Written the opset-17 way, a ReduceMean at opset 18 is
// refused or reduces over the wrong axes.
import { describe, expect, it } from "vitest";
import { hostTensor, input, max, mean, sum, toNumbers } from "../core/index.js";
import { createRuntime } from "../runtime/index.js";
import { OnnxBuilder } from "./builder.js";

describe("opset-aware reductions", () => {
  it.each([17, 18])(
    "ReduceMean, ReduceMax and ReduceSum over axis 1 run right at opset %i",
    async (opset) => {
      const x = input("x", [2, 3]);
      const rt = await createRuntime({ threads: 1 });
      const exe = await rt.compile({ m: mean(x, 1), mx: max(x, 1), s: sum(x, 1) }, { opset });
      // x = [[1, 2, 3], [4, 5, 9]]: row means 2, 6; maxima 3, 9; sums 6, 18 (by hand).
      const out = await exe.run({ x: hostTensor("float32", [2, 3], [1, 2, 3, 4, 5, 9]) });
      expect(toNumbers(out.m!)).toEqual([2, 6]);
      expect(toNumbers(out.mx!)).toEqual([3, 9]);
      expect(toNumbers(out.s!)).toEqual([6, 18]);
      await rt.dispose();
    },
  );

  it("puts the axes in an attribute before opset 18 and in an input from it", () => {
    for (const [opset, inputs, attr] of [
      [17, 1, true],
      [18, 2, false],
    ] as const) {
      const b = new OnnxBuilder(opset);
      const x = b.input("x", { dtype: "float32", shape: [2, 3] });
      const t = mean(input("x", [2, 3]), 1);
      t.op.onnx(b, [x], t.attrs, t, t.inputs);
      const node = b.nodes.find((n) => n.opType === "ReduceMean")!;
      expect(node.inputs).toHaveLength(inputs);
      expect("axes" in node.attrs).toBe(attr);
    }
  });
});
