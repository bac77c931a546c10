import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { input } from "../core/index.js";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../models/presets.js";
import { DinoVisionTransformer } from "../models/vision-transformer.js";
import { bindConstants } from "../nn/module.js";
import { extractFeatures } from "./features.js";

const OPTS: VitOptions = { ...VIT_DEFAULTS, imgSize: 28, embedDim: 24, depth: 1, numHeads: 2 };
const IMAGE = 3 * 28 * 28;

function images(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n * IMAGE }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  });
}

function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
}

async function* chunks(all: Float32Array, sizes: number[]): AsyncGenerator<Float32Array> {
  let at = 0;
  for (const n of sizes) {
    yield all.subarray(at * IMAGE, (at + n) * IMAGE);
    at += n;
  }
}

describe("extractFeatures", () => {
  const backbone = createBackbone(OPTS, 4);
  const all = images(5, 9);

  async function direct() {
    const model = new DinoVisionTransformer(OPTS);
    bindConstants(model, backbone.weights);
    const f = model.forwardFeatures(input("x", [5, 3, 28, 28]));
    const exe = await (await testRuntime()).compile({ cls: f.clsToken, patches: f.patchTokens });
    return exe.run({ x: { dtype: "float32", shape: [5, 3, 28, 28], data: all } });
  }

  it("returns the CLS and patch tokens of forwardFeatures, rechunking and padding the batches", async () => {
    const rt = await testRuntime();
    const got = await extractFeatures(rt, backbone, chunks(all, [3, 1, 1]), {
      batchSize: 2,
      withPatches: true,
    });
    const want = await direct();
    expect(got).toMatchObject({ count: 5, dim: 24, numPatches: 4 });
    expect(got.cls.length).toBe(5 * 24);
    expect(got.patches!.length).toBe(5 * 4 * 24);
    const wantCls = want.cls!.data as Float32Array;
    const wantPatches = want.patches!.data as Float32Array;
    expectClose(got.cls, wantCls);
    expectClose(got.patches!, wantPatches);
  });

  it("accepts a plain array of batches and omits patches unless asked", async () => {
    const rt = await testRuntime();
    const got = await extractFeatures(rt, backbone, [all.subarray(0, 2 * IMAGE)], { batchSize: 4 });
    expect(got.count).toBe(2);
    expect(got.patches).toBeUndefined();
    const want = (await direct()).cls!.data as Float32Array;
    expectClose(got.cls, want.subarray(0, 2 * 24));
  });

  it("gives the same features with the weights fed as graph inputs", async () => {
    const rt = await testRuntime();
    const got = await extractFeatures(rt, backbone, [all], { batchSize: 5, weightsAs: "inputs" });
    expectClose(got.cls, (await direct()).cls!.data as Float32Array);
  });

  it("rejects a batch that is not whole images", async () => {
    const rt = await testRuntime();
    await expect(
      extractFeatures(rt, backbone, [new Float32Array(IMAGE + 1)], { batchSize: 2 }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`
      [ShapeError: extractFeatures: an image batch has 2353 values; expected a multiple of 3×28×28 = 2352
        hint: pass batches laid out [n, C, S, S] with S = imageSize]
    `);
  });
});
