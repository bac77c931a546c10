import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  blankImage,
  encodePng,
  imageFromChw,
  imageGrid,
  readPng,
  upscaleNearest,
  writePng,
} from "./png.js";

describe("png", () => {
  it("writes RGB bytes that read back unchanged", () => {
    const data = Uint8Array.from({ length: 3 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const path = join(mkdtempSync(join(tmpdir(), "png-")), "x.png");
    writePng(path, data, 4, 3);
    const back = readPng(path);
    expect([back.width, back.height]).toEqual([4, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it("rejects a buffer that is not width × height × 3", () => {
    expect(() =>
      encodePng({ width: 2, height: 2, data: new Uint8Array(11) }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ShapeError: encodePng: got 11 bytes, expected 2×2×3 = 12]`,
    );
  });

  it("lays out a grid: columns as wide as their widest image, smaller images centred", () => {
    const red = blankImage(4, 4, [255, 0, 0]);
    const blue = blankImage(2, 2, [0, 0, 255]);
    const grid = imageGrid([[red, blue], [blue]], { gapPx: 1, background: [0, 0, 0] });
    expect([grid.width, grid.height]).toEqual([1 + 4 + 1 + 2 + 1, 1 + 4 + 1 + 2 + 1]);
    const at = (x: number, y: number) =>
      Array.from(grid.data.subarray((y * grid.width + x) * 3, (y * grid.width + x) * 3 + 3));
    expect(at(1, 1)).toEqual([255, 0, 0]);
    expect(at(6, 2)).toEqual([0, 0, 255]); // blue centred vertically in the 4-tall row
    expect(at(6, 1)).toEqual([0, 0, 0]);
    expect(at(2, 7)).toEqual([0, 0, 255]); // blue centred in the 4-wide column
  });

  it("undoes the ImageNet normalisation of a model input", () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const rgb = [200, 100, 50];
    const chw = Float32Array.from([0, 1, 2].flatMap((c) => [(rgb[c]! / 255 - mean[c]!) / std[c]!]));
    expect(Array.from(imageFromChw(chw, 1, 1).data)).toEqual(rgb);
  });

  it("upscales by repeating pixels", () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    expect(Array.from(upscaleNearest(img, 2).data)).toEqual([
      1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6,
    ]);
  });
});
