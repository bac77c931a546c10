import { describe, expect, it } from "vitest";
import {
  add,
  concat,
  constant,
  expand,
  hostTensor,
  input,
  reshape,
  type Tensor,
} from "../core/index.js";
import { lowerToOnnx } from "../onnx/index.js";
import { createRuntime, loadOrt } from "../runtime/index.js";
import { DynamicBatchError, lowerDynamicBatch } from "./dynamic-batch.js";

/** A token-style graph: prepend a learned row to every sample, then flatten rows and restore. */
function tokens(batch: number): Record<string, Tensor> {
  const x = input("x", [batch, 2, 3]);
  const cls = constant(hostTensor("float32", [1, 1, 3], [10, 20, 30]));
  const t = concat([expand(cls, [batch, 1, 3]), x], 1); // [B, 3, 3]
  const rows = reshape(t, [batch * 3, 3]); // [B*3, 3]
  return { y: reshape(add(rows, rows), [batch, 9]) };
}

describe("lowerDynamicBatch", () => {
  it("runs at any batch and matches the graph traced at that batch", async () => {
    const model = lowerDynamicBatch(tokens);
    expect(model.inputs.get("x")?.shape).toEqual([-1, 2, 3]);
    // lowerToOnnx declares outputs with the traced batch, so onnxruntime warns at other batches.
    (await loadOrt()).env.logLevel = "error";
    const rt = await createRuntime({ threads: 1 });
    const dynamic = await rt.load(model);
    for (const b of [1, 4]) {
      const x = hostTensor(
        "float32",
        [b, 2, 3],
        Float32Array.from({ length: b * 6 }, (_, i) => i),
      );
      const want = await (await rt.compile(tokens(b))).run({ x });
      const got = await dynamic.run({ x });
      expect(got.y!.shape).toEqual([b, 9]);
      expect(Array.from(got.y!.data as Float32Array)).toEqual(
        Array.from(want.y!.data as Float32Array),
      );
    }
  });

  it("reads the batch from the input's Shape, which the static graph does not need", () => {
    const has = (bytes: Uint8Array, s: string) => Buffer.from(bytes).includes(s);
    expect(has(lowerToOnnx(tokens(2)).bytes, "Shape")).toBe(false);
    expect(has(lowerDynamicBatch(tokens).bytes, "Shape")).toBe(true);
  });

  it("refuses a graph whose constants other than shapes depend on the batch", () => {
    const perSample = (batch: number) => {
      const x = input("x", [batch, 2]);
      return { y: add(x, constant(hostTensor("float32", [batch, 2]))) };
    };
    expect(() => lowerDynamicBatch(perSample)).toThrow(DynamicBatchError);
    expect(() => lowerDynamicBatch(perSample)).toThrowErrorMatchingInlineSnapshot(
      `
      [DynamicBatchError: lowerDynamicBatch: node 1 (constant): its tensor changes with the batch; got float32[2,2] at batch 2, float32[3,2] at batch 3
        hint: only int64 shape vectors may scale with the batch; export with a fixed batch]
    `,
    );
  });
});
