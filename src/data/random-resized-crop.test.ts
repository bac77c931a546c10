// RandomResizedCrop box sampling: boxes fit the image and follow the scale and ratio ranges.
import { describe, expect, it } from "vitest";
import { randomResizedCrop, sampleCropBox } from "./random-resized-crop.js";
import { createRng } from "./rng.js";

describe("sampleCropBox", () => {
  it("boxes lie inside the image with area and aspect within range (seed 0)", () => {
    const rng = createRng(0);
    for (const [H, W] of [
      [224, 224],
      [375, 500],
      [100, 37],
    ] as const) {
      for (let i = 0; i < 300; i++) {
        const b = sampleCropBox(rng, H, W, [0.05, 0.32]);
        expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= H && b.left + b.width <= W).toBe(
          true,
        );
        const area = (b.height * b.width) / (H * W);
        const fallback = b.top === Math.floor((H - b.height) / 2) && area > 0.32;
        if (!fallback) {
          // rounding each side to whole pixels moves area and ratio a little
          expect(area).toBeGreaterThan(0.05 * 0.8);
          expect(area).toBeLessThan(0.32 * 1.25);
          expect(b.width / b.height).toBeGreaterThan((3 / 4) * 0.8);
          expect(b.width / b.height).toBeLessThan((4 / 3) * 1.25);
        }
      }
    }
  });

  it("falls back to the largest centred crop within the ratio when no try fits", () => {
    // scale > 1 can never fit: the fallback for a 10×100 strip is 10 wide × 13 (ratio 4/3 max)
    const b = sampleCropBox(createRng(1), 10, 100, [2, 3]);
    expect(b).toEqual({ top: 0, left: 43, height: 10, width: 13 });
  });

  it("is deterministic for a stream and produces the requested output size", () => {
    const a = sampleCropBox(createRng(5), 300, 200, [0.32, 1]);
    expect(sampleCropBox(createRng(5), 300, 200, [0.32, 1])).toEqual(a);
    const img = {
      data: new Float32Array(3 * 30 * 20).fill(0.5),
      channels: 3,
      height: 30,
      width: 20,
    };
    const out = randomResizedCrop(img, createRng(5), { size: 16, scale: [0.32, 1] });
    expect([out.channels, out.height, out.width]).toEqual([3, 16, 16]);
    for (const v of out.data) expect(v).toBeCloseTo(0.5, 5);
  });
});
