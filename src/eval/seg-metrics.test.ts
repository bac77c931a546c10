// Segmentation metrics on a mask computed by hand, and the poly schedule's values.
import { describe, expect, it } from "vitest";
import { polyLr } from "./head-schedule.js";
import { ConfusionMatrix } from "./seg-metrics.js";

describe("ConfusionMatrix", () => {
  it("gives mIoU, per-class IoU and pixel accuracy of a hand-checked 4×4 case", () => {
    // label (255 = ignored)   prediction
    //  0 0 1 1                 0 0 1 0
    //  0 0 1 1                 0 1 1 1
    //  2 2 255 255             2 0 1 2
    //  2 2 0 0                 2 2 0 0
    const label = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 255, 255, 2, 2, 0, 0];
    const pred = [0, 0, 1, 0, 0, 1, 1, 1, 2, 0, 1, 2, 2, 2, 0, 0];
    const m = new ConfusionMatrix(4);
    m.add(pred, label);
    const r = m.metrics();
    // 14 labelled pixels. Class 0 (6 labelled):
    //   label 0 pixels: (0,0)✓ (0,1)✓ (1,0)✓ (1,1)→1 (3,2)✓ (3,3)✓: hit 5
    //   predicted 0 on labelled pixels: 5 hits + (0,3) [label 1] + (2,1) [label 2] = 7
    //   IoU0 = 5 / (6 + 7 - 5) = 5/8
    // Class 1: label 1 at (0,2)✓ (0,3)→0 (1,2)✓ (1,3)✓: hit 3; predicted 1: 3 + (1,1) = 4
    //   IoU1 = 3 / (4 + 4 - 3) = 3/5
    // Class 2: label 2 at (2,0)✓ (2,1)→0 (3,0)✓ (3,1)✓: hit 3; predicted 2: 3 → IoU2 = 3/4
    // Class 3: neither labelled nor predicted → NaN, left out of the mean.
    expect(r.perClassIoU.slice(0, 3)).toEqual([5 / 8, 3 / 5, 3 / 4]);
    expect(r.perClassIoU[3]).toBeNaN();
    expect(r.mIoU).toBeCloseTo((5 / 8 + 3 / 5 + 3 / 4) / 3, 12);
    expect(r.pixelAccuracy).toBeCloseTo(11 / 14, 12);
    expect(r.meanAccuracy).toBeCloseTo((5 / 6 + 3 / 4 + 3 / 4) / 3, 12);
    expect(r.labelledPixels).toBe(14);
  });

  it("refuses a label beyond the class count, naming it and the pixel", () => {
    const m = new ConfusionMatrix(3);
    expect(() => m.add([0, 0], [0, 7])).toThrow(/label 7 at pixel 1 is outside 0\.\.2/);
  });
});

describe("polyLr", () => {
  it("follows mmcv's poly + linear warmup", () => {
    const s = { base: 1e-3, iterations: 40000, warmupIterations: 1500, warmupRatio: 1e-6 };
    // t = 0: regular 1e-3 · (1 − 0) = 1e-3, k = (1 − 0)(1 − 1e-6) → 1e-3 · 1e-6.
    expect(polyLr(0, s)).toBeCloseTo(1e-9, 15);
    // t = 750: regular 1e-3 · (1 − 750/40000); k = 0.5 · (1 − 1e-6).
    expect(polyLr(750, s)).toBeCloseTo(1e-3 * (1 - 750 / 40000) * (1 - 0.5 * (1 - 1e-6)), 15);
    // after warmup: plain poly, power 1.
    expect(polyLr(20000, s)).toBeCloseTo(5e-4, 15);
    expect(polyLr(39999, s)).toBeCloseTo(1e-3 / 40000, 15);
  });
});
