import { describe, expect, it } from "vitest";
import { blankImage } from "./png.js";
import { drawText, strokePolyline, textWidth } from "./raster.js";

function pixel(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  return Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
}

describe("raster", () => {
  it("draws 5×7 glyphs one column apart", () => {
    const img = blankImage(12, 7);
    drawText(img, "1I", 0, 0, [0, 0, 0]);
    expect(textWidth("1I")).toBe(11);
    expect(pixel(img, 2, 0)).toEqual([0, 0, 0]); // top of "1"
    expect(pixel(img, 0, 0)).toEqual([255, 255, 255]);
    expect(pixel(img, 8, 3)).toEqual([0, 0, 0]); // stem of "I"
  });

  it("does not darken polyline joints by drawing them twice", () => {
    const img = blankImage(20, 20);
    strokePolyline(img, [2, 10.5, 10, 10.5, 18, 10.5], [0, 0, 255], 1);
    expect(pixel(img, 10, 10)).toEqual(pixel(img, 6, 10));
    expect(pixel(img, 10, 10)).toEqual([0, 0, 255]);
  });
});
