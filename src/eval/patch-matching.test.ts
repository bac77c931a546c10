import { describe, expect, it } from "vitest";
import { drawPatchMatches, mutualNearestPatches } from "./patch-matching.js";
import { blankImage } from "./png.js";

describe("mutualNearestPatches", () => {
  it("keeps only pairs that are each other's nearest by cosine, best first", () => {
    // A0 = e0, A1 ≈ e0 (also nearest to B0, but B0 prefers A0), A2 = e1; B0 = 3 e0, B1 = e1 + 0.2 e0.
    const a = Float32Array.from([1, 0, 0.95, 0.3, 0, 1]);
    const b = Float32Array.from([3, 0, 0.2, 1]);
    const m = mutualNearestPatches(a, b, 2);
    expect(m.map(({ a, b }) => [a, b])).toEqual([
      [0, 0],
      [2, 1],
    ]);
    expect(m[0]!.similarity).toBeCloseTo(1, 6);
    expect(m[1]!.similarity).toBeCloseTo(1 / Math.hypot(0.2, 1), 6);
  });
});

describe("drawPatchMatches", () => {
  it("puts the images side by side and draws a line across the gap", () => {
    const a = blankImage(20, 20);
    const b = blankImage(30, 10);
    const grid = { gridH: 2, gridW: 2 };
    const pic = drawPatchMatches(a, grid, b, grid, [{ a: 0, b: 1, similarity: 1 }], { gapPx: 10 });
    expect([pic.width, pic.height]).toEqual([60, 20]);
    // From A's patch-0 centre (5, 5) to B's patch-1 centre (22.5, 2.5) + offset 30.
    const y = 4;
    const px = Array.from(pic.data.subarray((y * 60 + 25) * 3, (y * 60 + 25) * 3 + 3));
    expect(px).not.toEqual([255, 255, 255]);
    expect(Array.from(pic.data.subarray((19 * 60 + 25) * 3, (19 * 60 + 25) * 3 + 3))).toEqual([
      255, 255, 255,
    ]);
  });
});
