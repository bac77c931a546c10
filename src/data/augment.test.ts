// DataAugmentationDino: crop counts and sizes, normalisation, determinism per sample stream.
import { describe, expect, it } from "vitest";
import { BLUR_PROBABILITIES, createDataAugmentationDino } from "./augment.js";
import { createRng } from "./rng.js";

const H = 60;
const W = 80;
const image = {
  data: Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 37 + (i >> 7) * 11) % 256),
  channels: 3,
  height: H,
  width: W,
};

describe("createDataAugmentationDino", () => {
  const aug = createDataAugmentationDino({
    globalCropsSize: 32,
    localCropsSize: 16,
    localCropsNumber: 3,
  });

  it("returns 2 global and n local normalised CHW crops", () => {
    const out = aug(image, createRng(0));
    expect(out.globalCrops.map((c) => c.length)).toEqual([3 * 32 * 32, 3 * 32 * 32]);
    expect(out.localCrops.map((c) => c.length)).toEqual([3 * 16 * 16, 3 * 16 * 16, 3 * 16 * 16]);
    // [0, 1] maps to [-mean/std, (1-mean)/std]: about [-2.12, 2.64]
    for (const crop of [...out.globalCrops, ...out.localCrops]) {
      for (const v of crop) expect(v >= -2.2 && v <= 2.7).toBe(true);
    }
  });

  it("is deterministic per stream and differs across streams", () => {
    const a = aug(image, createRng(1).split(4));
    const b = aug(image, createRng(1).split(4));
    const c = aug(image, createRng(1).split(5));
    expect(a.globalCrops[0]).toEqual(b.globalCrops[0]);
    expect(a.localCrops[2]).toEqual(b.localCrops[2]);
    expect(a.globalCrops[0]).not.toEqual(c.globalCrops[0]);
  });

  it("accepts float CHW and uint8 HWC inputs alike", () => {
    const plane = H * W;
    const chw = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++)
      for (let ch = 0; ch < 3; ch++) chw[ch * plane + p] = image.data[p * 3 + ch]! / 255;
    const f = aug({ data: chw, channels: 3, height: H, width: W }, createRng(2));
    const u = aug(image, createRng(2));
    expect(f.localCrops[0]).toEqual(u.localCrops[0]);
  });

  it("the released blur probabilities are the inverted ones", () => {
    expect(BLUR_PROBABILITIES.released).toEqual([0, 0.9, 0.5]);
    expect(BLUR_PROBABILITIES.paper).toEqual([1, 0.1, 0.5]);
  });

  it("rejects invalid options at construction", () => {
    expect(() =>
      createDataAugmentationDino({ localCropsScale: [0.5, 0.1] }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: DataAugmentationDino: crop scales must satisfy 0 < min <= max; got [0.5,0.1]]`,
    );
  });

  it("rejects images with an unsupported channel count", () => {
    const two = { data: new Uint8Array(2 * 4 * 4), channels: 2, height: 4, width: 4 };
    expect(() => aug(two, createRng(0))).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: DataAugmentationDino: expects 1, 3 or 4 channels; got 2]`,
    );
  });
});
