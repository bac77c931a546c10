// Python rounding and float32 linspace semantics.
import { describe, expect, it } from "vitest";
import { linspaceF32, roundHalfEven, truncMulF32 } from "./python-numerics.js";

describe("python numerics", () => {
  it("round() sends halves to even", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, 2, 3,
    ]);
  });

  it("linspace hits both ends exactly in float32", () => {
    const p = linspaceF32(0.1, 0.5, 5);
    expect(p[0]).toBe(Math.fround(0.1));
    expect(p[4]).toBe(Math.fround(0.5));
    expect(p[2]).toBeCloseTo(0.3, 6);
  });

  it("int(N * p) rounds the product to float32 first (29, not 28, for 100 × 0.29)", () => {
    expect(Math.trunc(100 * 0.29)).toBe(28); // float64 would say 28
    expect(truncMulF32(100, 0.29)).toBe(29);
    expect(truncMulF32(256, 0.5)).toBe(128);
  });
});
