import { describe, expect, it } from "vitest";
import { pcaPatchPicture, principalComponents } from "./pca.js";

function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

/** [P, D] features: an "object" block of patches along axis 0, the rest near zero. */
function scene(
  gridH: number,
  gridW: number,
  dim: number,
  isObject: (y: number, x: number) => boolean,
) {
  const rnd = noise(7);
  const out = new Float32Array(gridH * gridW * dim);
  for (let y = 0; y < gridH; y++) {
    for (let x = 0; x < gridW; x++) {
      for (let d = 0; d < dim; d++) {
        const base = isObject(y, x) && d === 0 ? 5 : 0;
        out[(y * gridW + x) * dim + d] = base + 0.3 * rnd() + (d === 1 ? 0.2 * x : 0);
      }
    }
  }
  return out;
}

describe("pcaPatchPicture", () => {
  const tokens = scene(3, 4, 6, (y, x) => y === 1 && x > 0);

  it("is gridW·cellPx × gridH·cellPx RGB, each patch a flat cell", () => {
    const pic = pcaPatchPicture(tokens, 3, 4, { cellPx: 5 });
    expect([pic.width, pic.height, pic.data.length]).toEqual([20, 15, 20 * 15 * 3]);
    expect(pic.components.length).toBe(12 * 3);
    expect(Array.from(pic.foreground)).toEqual(new Array(12).fill(1));
    for (let y = 0; y < 15; y++) {
      for (let x = 0; x < 20; x++) {
        const cell = Math.floor(y / 5) * 4 + Math.floor(x / 5);
        for (let c = 0; c < 3; c++) {
          expect(pic.data[(y * 20 + x) * 3 + c]).toBe(
            Math.round(pic.components[cell * 3 + c]! * 255),
          );
        }
      }
    }
  });

  it("min-max scales every component to exactly [0, 1]", () => {
    const pic = pcaPatchPicture(tokens, 3, 4);
    for (let c = 0; c < 3; c++) {
      const col = Array.from({ length: 12 }, (_, i) => pic.components[i * 3 + c]!);
      expect(Math.min(...col)).toBe(0);
      expect(Math.max(...col)).toBeCloseTo(1, 6);
    }
    expect(pic.width).toBe(4 * 14);
  });

  it("is deterministic", () => {
    const a = pcaPatchPicture(tokens, 3, 4, { foregroundThreshold: 0.5 });
    const b = pcaPatchPicture(Float32Array.from(tokens), 3, 4, { foregroundThreshold: 0.5 });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it("keeps the object as foreground and blacks out the border-touching background", () => {
    const isObject = (y: number, x: number) => y >= 2 && y < 4 && x >= 2 && x < 5;
    const pic = pcaPatchPicture(scene(6, 6, 8, isObject), 6, 6, {
      foregroundThreshold: 0.5,
      cellPx: 2,
    });
    const want = Array.from({ length: 36 }, (_, i) => (isObject(Math.floor(i / 6), i % 6) ? 1 : 0));
    expect(Array.from(pic.foreground)).toEqual(want);
    expect(Array.from(pic.data.subarray(0, 3))).toEqual([0, 0, 0]);
  });

  it("rejects tokens that are not gridH × gridW × D", () => {
    expect(() => pcaPatchPicture(new Float32Array(10), 3, 4)).toThrowErrorMatchingInlineSnapshot(
      `[ShapeError: pcaPatchPicture: patch tokens have 10 values; expected 3×4×D]`,
    );
  });
});

describe("principalComponents", () => {
  it("finds planted axes in order of variance, each with a positive largest entry", () => {
    const rnd = noise(3);
    const dim = 6;
    const n = 400;
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      x[i * dim + 2] = 3 * Math.sin(i * 1.7) + 1;
      x[i * dim + 0] = -2 * Math.cos(i * 0.9);
      x[i * dim + 4] = Math.sin(i * 2.3 + 1);
      for (const d of [1, 3, 5]) x[i * dim + d] = 0.05 * rnd();
    }
    const { axes } = principalComponents(
      x,
      dim,
      Int32Array.from({ length: n }, (_, i) => i),
      3,
    );
    const expected = [2, 0, 4];
    expected.forEach((d, c) => {
      expect(axes[c * dim + d]!).toBeGreaterThan(0.999);
    });
  });
});
