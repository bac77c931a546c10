import { describe, expect, it } from "vitest";
import { classCount, topKAccuracy } from "./metrics.js";

describe("topKAccuracy", () => {
  it("counts a label as correct when fewer than k classes rank above it", () => {
    const scores = [0.1, 0.7, 0.2, 0.5, 0.3, 0.2];
    const labels = Int32Array.from([2, 1]);
    expect(topKAccuracy(scores, labels, 3, 1)).toBe(0);
    expect(topKAccuracy(scores, labels, 3, 2)).toBe(1);
  });

  it("breaks ties toward the lower class index", () => {
    const scores = [1, 1, 1];
    expect(topKAccuracy(scores, Int32Array.from([0]), 3, 1)).toBe(1);
    expect(topKAccuracy(scores, Int32Array.from([2]), 3, 2)).toBe(0);
  });

  it("takes the class count from the largest label", () => {
    expect(classCount(Int32Array.from([3, 0, 7, 2]))).toBe(8);
  });
});
