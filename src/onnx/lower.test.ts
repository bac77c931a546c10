// ONNX lowering: deterministic bytes, module-path names, output naming, the 2 GiB limit.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { add, constant, hostTensor, input, matmul, mul, withScope } from "../core/index.js";
import { loadOrt } from "../runtime/index.js";
import { lowerToOnnx } from "./lower.js";

function build() {
  const x = input("x", [2, 3]);
  const w = constant(
    hostTensor(
      "float32",
      [3, 4],
      Array.from({ length: 12 }, (_, i) => i / 10),
    ),
  );
  const y = withScope("blocks.0.mlp.fc1", () => add(matmul(x, w), 1));
  return { y, z: mul(y, 2), x };
}

describe("lowerToOnnx", () => {
  it("writes the same bytes for the same graph built twice", () => {
    const lower = () => {
      const g = build();
      return Buffer.from(lowerToOnnx({ y: g.y, z: g.z }).bytes);
    };
    expect(lower().equals(lower())).toBe(true);
  });

  it("names nodes by module path and outputs by their given names", () => {
    const { y, z } = build();
    const text = Buffer.from(lowerToOnnx({ y, z }).bytes).toString("latin1");
    expect(text).toContain("blocks.0.mlp.fc1/MatMul_");
    expect(lowerToOnnx({ y, z }).outputNames).toEqual(["y", "z"]);
  });

  it("lowers graphs too large for one spread call (a ViT-g step has millions of chunks)", () => {
    let y = input("x", [2]);
    for (let i = 0; i < 60_000; i++) y = add(y, 1);
    expect(lowerToOnnx({ y }).bytes.length).toBeGreaterThan(60_000 * 10);
  });

  it("refuses constants over the inline limit and says how to fix it", () => {
    const { y } = build();
    expect(() => lowerToOnnx({ y }, { maxInlineBytes: 16 })).toThrowErrorMatchingInlineSnapshot(
      `[OnnxExportError: the graph holds 0.00 GiB of constants, over ONNX's 2 GiB protobuf limit; lower it with externalDataFile (e.g. "model.onnx.data")]`,
    );
  });

  it("writes large constants to external data that onnxruntime loads", async () => {
    const x = input("x", [1, 512]);
    const w = constant(
      hostTensor(
        "float32",
        [512, 2],
        Float32Array.from({ length: 1024 }, (_, i) => (i % 2 ? 1 : 0)),
      ),
    );
    const m = lowerToOnnx(
      { y: matmul(x, w) },
      { externalDataFile: "model.onnx.data", maxInlineBytes: 1024 },
    );
    const dir = mkdtempSync(join(tmpdir(), "dinov2-onnx-"));
    writeFileSync(join(dir, "model.onnx"), m.bytes);
    writeFileSync(
      join(dir, "model.onnx.data"),
      Buffer.concat(m.externalData.map((c) => Buffer.from(c))),
    );
    const ort = await loadOrt();
    const s = await ort.InferenceSession.create(join(dir, "model.onnx"));
    const out = await s.run({
      x: new ort.Tensor("float32", new Float32Array(512).fill(1), [1, 512]),
    });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 512]);
  });
});
