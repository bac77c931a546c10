import { describe, expect, it } from "vitest";
import { InitRng, truncNormal } from "./init.js";

describe("InitRng", () => {
  it("is deterministic per seed and draws standard normals", () => {
    const a = new InitRng(7);
    const b = new InitRng(7);
    const c = new InitRng(8);
    const xs = Array.from({ length: 20_000 }, () => a.normal());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.normal()));
    expect(xs[0]).not.toBe(c.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it("truncNormal stays inside [-2, 2] with the requested spread", () => {
    const t = truncNormal(1.5)([4000], new InitRng(1));
    const v = Array.from(t.data);
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(2);
    expect(v.filter((x) => Math.abs(x) > 1).length).toBeGreaterThan(500);
  });
});
