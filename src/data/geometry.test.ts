// Crop, flip and blur invariants not covered by the torchvision fixture.
import { describe, expect, it } from "vitest";
import { gaussianBlur, gaussianKernel1d } from "./blur.js";
import { crop, hflip } from "./geometry.js";

const img = {
  data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i + 1),
  channels: 2,
  height: 3,
  width: 4,
};

describe("geometry and blur", () => {
  it("crop fills outside the image with zeros, like torchvision's padded crop", () => {
    const c = crop(img, -1, 2, 2, 3);
    expect([...c.data]).toEqual([0, 0, 0, 3, 4, 0, 0, 0, 0, 15, 16, 0]);
  });

  it("hflip twice is the identity and mirrors each row", () => {
    expect([...hflip(img).data.subarray(0, 4)]).toEqual([4, 3, 2, 1]);
    expect(hflip(hflip(img)).data).toEqual(img.data);
  });

  it("the Gaussian kernel sums to 1 and blur keeps a constant image", () => {
    const k = gaussianKernel1d(9, 1.3);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const flat = {
      data: new Float32Array(3 * 12 * 10).fill(0.25),
      channels: 3,
      height: 12,
      width: 10,
    };
    for (const v of gaussianBlur(flat, 9, 2).data) expect(v).toBeCloseTo(0.25, 6);
  });

  it("rejects an even kernel size with the values", () => {
    expect(() => gaussianKernel1d(8, 1)).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: gaussianKernel1d: kernel size must be a positive odd integer and sigma > 0; got kernel 8, sigma 1]`,
    );
  });
});
