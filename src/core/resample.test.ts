// Bicubic resampling matrices: PyTorch's index/weight rules on small cases.
import { describe, expect, it } from "vitest";
import { applySeparable, bicubicWeights, interpolateOutputSize } from "./resample.js";

const row = (m: Float64Array, inSize: number, o: number) =>
  Array.from(m.subarray(o * inSize, (o + 1) * inSize));

describe("bicubicWeights", () => {
  it("rows sum to 1 in both modes, up and down", () => {
    for (const antialias of [false, true]) {
      for (const [i, o] of [
        [7, 13],
        [13, 7],
        [37, 16],
        [5, 5],
      ] as const) {
        const m = bicubicWeights(i, o, { antialias });
        for (let r = 0; r < o; r++) {
          const s = row(m, i, r).reduce((a, b) => a + b, 0);
          expect(s, `in ${i} out ${o} aa ${antialias} row ${r}`).toBeCloseTo(1, 6);
        }
      }
    }
  });

  it("is the identity for an unchanged size without a scale factor", () => {
    for (const antialias of [false, true]) {
      const m = bicubicWeights(6, 6, { antialias });
      for (let r = 0; r < 6; r++)
        expect(row(m, 6, r)).toEqual([0, 1, 2, 3, 4, 5].map((c) => (c === r ? 1 : 0)));
    }
  });

  it("non-antialiased upsampling by 2 uses A = -0.75 taps at t = 0.75 and 0.25", () => {
    const A = -0.75;
    const c1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
    const c2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    const m = bicubicWeights(8, 16, { antialias: false });
    // output 5: src = 0.5 * 5.5 - 0.5 = 2.25 → taps 1..4 with t = 0.25
    const expected = [0, c2(1.25), c1(0.25), c1(0.75), c2(1.75), 0, 0, 0];
    for (const [j, w] of row(m, 8, 5).entries()) expect(w).toBeCloseTo(expected[j]!, 6);
    // output 0: src = -0.25 → floor -1, t = 0.75; taps -2..1 clamp onto 0 and 1
    const t = 0.75;
    const r0 = row(m, 8, 0);
    expect(r0[0]).toBeCloseTo(c2(t + 1) + c1(t) + c1(1 - t), 6);
    expect(r0[1]).toBeCloseTo(c2(2 - t), 6);
  });

  it("a scale factor overrides in/out in the source index (interpolate_offset)", () => {
    const plain = bicubicWeights(37, 16, { antialias: false });
    const scaled = bicubicWeights(37, 16, { antialias: false, scale: 16.1 / 37 });
    expect(interpolateOutputSize(37, 16.1 / 37)).toBe(16);
    expect(Math.max(...plain.map((v, i) => Math.abs(v - scaled[i]!)))).toBeGreaterThan(1e-3);
  });

  it("antialiased downsampling widens the support by the scale", () => {
    const m = bicubicWeights(40, 10, { antialias: true });
    const nonzero = row(m, 40, 5).filter((w) => w !== 0).length;
    expect(nonzero).toBeGreaterThanOrEqual(15);
    expect(nonzero).toBeLessThanOrEqual(17);
    const narrow = row(bicubicWeights(40, 10, { antialias: false }), 40, 5).filter((w) => w !== 0);
    expect(narrow.length).toBe(4);
  });

  it("rejects non-positive sizes with the values", () => {
    expect(() => bicubicWeights(0, 4, { antialias: true })).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: bicubicWeights: sizes must be positive integers; got in 0, out 4]`,
    );
  });
});

describe("applySeparable", () => {
  it("equals the dense product rows · X · colsᵀ per channel", () => {
    const [C, H, W, oH, oW] = [2, 5, 7, 3, 4];
    const img = Float32Array.from({ length: C * H * W }, (_, i) => Math.sin(i * 1.7));
    const rows = bicubicWeights(H, oH, { antialias: true });
    const cols = bicubicWeights(W, oW, { antialias: false });
    const out = applySeparable(img, C, H, W, rows, cols);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < oH; y++) {
        for (let x = 0; x < oW; x++) {
          let ref = 0;
          for (let i = 0; i < H; i++) {
            for (let j = 0; j < W; j++)
              ref += rows[y * H + i]! * img[(c * H + i) * W + j]! * cols[x * W + j]!;
          }
          expect(out[(c * oH + y) * oW + x]).toBeCloseTo(ref, 5);
        }
      }
    }
  });
});
