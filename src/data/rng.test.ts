// The seeded RNG: determinism, split independence, ranges and rough uniformity.
import { describe, expect, it } from "vitest";
import { createRng } from "./rng.js";

const draw = (seed: number | string, n = 8) => {
  const r = createRng(seed);
  return Array.from({ length: n }, () => r.nextU32());
};

describe("createRng", () => {
  it("gives the same stream for the same seed and different ones otherwise", () => {
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw("7")).not.toEqual(draw(7));
  });

  it("split depends on the key path only, not on draws made by the parent", () => {
    const a = createRng(3);
    const b = createRng(3);
    for (let i = 0; i < 100; i++) b.nextU32();
    expect(a.split("x").split(5).uniform()).toBe(b.split("x").split(5).uniform());
    expect(a.split("x").uniform()).not.toBe(a.split("y").uniform());
    expect(a.split(1).uniform()).not.toBe(a.split(2).uniform());
    expect(a.split("x").split(5).path).toBe("3/x/5");
  });

  it("draws within range: uniform, int, permutation, shuffle", () => {
    const r = createRng(11);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 5000; i++) {
      const u = r.uniform(2, 3);
      expect(u >= 2 && u < 3).toBe(true);
      counts[r.int(-2, 3) + 2]++;
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect([...r.permutation(10)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.shuffle(["a", "b", "c"]).sort()).toEqual(["a", "b", "c"]);
  });

  it("normal has about the requested mean and standard deviation", () => {
    const r = createRng(5);
    const xs = Array.from({ length: 20000 }, () => r.normal(1, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
  });

  it("rejects keys and ranges it cannot honour", () => {
    expect(() => createRng(-1)).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: rng key must be a non-negative safe integer or a string; got -1]`,
    );
    expect(() => createRng(1).int(3, 3)).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: rng.int: needs integers lo < hi within 2^32; got [3, 3)]`,
    );
  });
});
