// Block masking: counts stay within the target, blocks respect the grid, the official max.
import { describe, expect, it } from "vitest";
import { createMaskingGenerator, officialMaxNumPatches } from "./masking.js";
import { createRng } from "./rng.js";

const sum = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);

describe("createMaskingGenerator", () => {
  const gen = createMaskingGenerator({ height: 16, width: 16, maxNumPatches: 128 });

  it("never masks more than the target and gets close to it (seed 1)", () => {
    const rng = createRng(1);
    for (const target of [0, 4, 25, 64, 128]) {
      for (let trial = 0; trial < 20; trial++) {
        const m = gen(target, rng);
        expect(m.length).toBe(256);
        const n = sum(m);
        expect(n, `target ${target}`).toBeLessThanOrEqual(target);
        if (target >= 25) expect(n, `target ${target}`).toBeGreaterThanOrEqual(0.6 * target);
      }
    }
  });

  it("masks nothing for target 0 and only 0/1 values", () => {
    const rng = createRng(2);
    expect(sum(gen(0, rng))).toBe(0);
    expect(gen(50, rng).every((v) => v === 0 || v === 1)).toBe(true);
  });

  it("is deterministic for a given stream", () => {
    expect(gen(60, createRng(9).split("m"))).toEqual(gen(60, createRng(9).split("m")));
  });

  it("a single block is a rectangle of at least minNumPatches cells", () => {
    const one = createMaskingGenerator({ height: 16, width: 16, maxNumPatches: 10 });
    const rng = createRng(4);
    for (let t = 0; t < 30; t++) {
      const m = one(10, rng);
      const n = sum(m);
      expect(n).toBeLessThanOrEqual(10);
      expect(n).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("officialMaxNumPatches", () => {
  it("evaluates train.py's expression left to right", () => {
    expect(officialMaxNumPatches(224, 14)).toBe(128);
    expect(officialMaxNumPatches(224, 16)).toBe(98);
    expect(officialMaxNumPatches(518, 14)).toBe(666);
  });
});
