import { describe, expect, it } from "vitest";
import { crop, resize } from "../data/geometry.js";
import { toFloatImage, type Uint8Image } from "../data/image.js";
import { checkImageSize, evalTransform, preprocessInto, resizedSize } from "./preprocess.js";

/** A deterministic H×W×3 test pattern. */
function pattern(height: number, width: number): Uint8Image {
  const data = Uint8Array.from(
    { length: height * width * 3 },
    (_, i) => (i * 37 + ((i / 7) | 0) * 11) % 256,
  );
  return { data, channels: 3, height, width };
}

describe("evalTransform", () => {
  it("resizes to round(S*256/224) before the S crop, as the official 256/224 transform", () => {
    expect(evalTransform(224)).toMatchObject({ resizePx: 256, cropPx: 224 });
    expect(evalTransform(518)).toMatchObject({ resizePx: 592, cropPx: 518 });
    expect(evalTransform(14)).toMatchObject({ resizePx: 16, cropPx: 14 });
  });

  it("refuses a size that is not a multiple of the patch, naming the nearest valid sizes", () => {
    expect(() => checkImageSize(230, 14)).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: config: image size must be a positive multiple of the patch size 14; got 230
        hint: use 224 or 238]
    `);
    expect(() => checkImageSize(5, 14)).toThrow(/hint: use 14/);
  });
});

describe("resizedSize", () => {
  it("sets the shorter side and truncates the longer one, as torchvision's Resize(int)", () => {
    expect(resizedSize(375, 500, 256)).toEqual([256, 341]); // 256 * 500 / 375 = 341.33
    expect(resizedSize(500, 375, 256)).toEqual([341, 256]);
    expect(resizedSize(100, 100, 16)).toEqual([16, 16]);
  });
});

describe("preprocessInto", () => {
  it("only center-crops and normalises an image already at the resize size", () => {
    const img = pattern(16, 16);
    const out = new Float32Array(3 * 14 * 14);
    preprocessInto(img, evalTransform(14), out);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (const [c, y, x] of [
      [0, 0, 0],
      [1, 5, 9],
      [2, 13, 13],
    ] as const) {
      const v = img.data[((y + 1) * 16 + (x + 1)) * 3 + c]!;
      const want = (Math.fround(v / 255) - Math.fround(mean[c]!)) / Math.fround(std[c]!);
      expect(out[c * 196 + y * 14 + x]).toBe(Math.fround(want));
    }
  });

  it("equals resize of the whole image, then crop, then uint8 rounding and normalisation", () => {
    const img = pattern(23, 37); // resized to 16 x 25, cropped at left = round(5.5) = 6 (even)
    const t = evalTransform(14);
    const out = new Float32Array(3 * 14 * 14);
    preprocessInto(img, t, out);
    const f = toFloatImage(img);
    const scaled = { ...f, data: f.data.map((v) => Math.round(v * 255)) }; // the 0..255 scale
    const ref = crop(resize(scaled, 16, 25), 1, 6, 14, 14).data;
    const want = ref.map((v, i) => {
      const c = Math.floor(i / 196);
      const q = Math.fround(Math.min(255, Math.max(0, Math.round(v))) / 255);
      return (q - Math.fround(t.mean[c]!)) / Math.fround(t.std[c]!);
    });
    expect(out).toEqual(want);
  });
});
