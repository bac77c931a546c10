// int8 linear layers: the rewrite's structure, an exact hand-checked product, and a small ViT's
// features against its fp32 features.
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import {
  add,
  constant,
  type HostTensor,
  hostTensor,
  input,
  matmul,
  mT,
  topoSort,
} from "../core/index.js";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS } from "../models/presets.js";
import { embedGraph, PIXEL_VALUES } from "./backbone-graph.js";
import { quantizeLinears } from "./int8.js";

describe("quantizeLinears", () => {
  it("computes x Wᵀ + b exactly when x and W are already on the int8 grids", async () => {
    // W [N=2, K=3] with max |w| = 127 per output row: scale 1, so int8 holds W exactly; x spans
    // 0..255 so its uint8 quantisation (scale 1, zero point 0) is exact too.
    const w = hostTensor("float32", [2, 3], [127, -3, 5, 2, 127, -127]);
    const x = input("x", [2, 3]);
    const y = add(matmul(x, mT(constant(w))), constant(hostTensor("float32", [2], [0.5, -1])));
    const { outputs, report } = quantizeLinears({ y });
    expect(report).toMatchObject({ matmuls: 1, withBias: 1 });
    const ops = topoSort(Object.values(outputs)).map((t) => t.op.name);
    expect(ops).not.toContain("matmul");
    const exe = await (await testRuntime()).compile(outputs);
    const out = await exe.run({ x: hostTensor("float32", [2, 3], [0, 255, 10, 1, 2, 3]) });
    // By hand: row 0: 0*127 + 255*(-3) + 10*5 + 0.5 = -714.5; 0*2 + 255*127 + 10*(-127) - 1 = 31114
    //          row 1: 127 - 6 + 15 + 0.5 = 136.5;            2 + 254 - 381 - 1 = -126
    expect(Array.from(out.y!.data as Float32Array)).toEqual([-714.5, 31114, 136.5, -126]);
  });

  it("quantises every linear layer of a ViT and keeps its features (cosine >= 0.99)", async () => {
    const backbone = createBackbone(
      { ...VIT_DEFAULTS, imgSize: 56, embedDim: 64, depth: 2, numHeads: 2 },
      3,
    );
    const fp32 = embedGraph(backbone, 2, 56);
    const { outputs, report } = quantizeLinears(fp32);
    // qkv, proj, fc1, fc2 in each of the 2 blocks, each with its bias.
    expect(report).toMatchObject({ matmuls: 8, withBias: 8 });
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore / 3.5);
    const rt = await testRuntime();
    let s = 1;
    const pixels = Float32Array.from({ length: 2 * 3 * 56 * 56 }, () => {
      s = (s * 48271) % 2147483647;
      return (s / 2147483647) * 4 - 2;
    });
    const feeds: Record<string, HostTensor> = {
      [PIXEL_VALUES]: hostTensor("float32", [2, 3, 56, 56], pixels),
    };
    const a = (await (await rt.compile(fp32)).run(feeds)).cls!.data as Float32Array;
    const b = (await (await rt.compile(outputs)).run(feeds)).cls!.data as Float32Array;
    for (let r = 0; r < 2; r++) {
      const x = a.subarray(r * 64, (r + 1) * 64);
      const y = b.subarray(r * 64, (r + 1) * 64);
      let dot = 0;
      let nx = 0;
      let ny = 0;
      for (let i = 0; i < 64; i++) {
        dot += x[i]! * y[i]!;
        nx += x[i]! ** 2;
        ny += y[i]! ** 2;
      }
      const cos = dot / Math.sqrt(nx * ny);
      expect(cos).toBeGreaterThanOrEqual(0.99);
      expect(cos).toBeLessThan(1); // really quantised
    }
  });
});
