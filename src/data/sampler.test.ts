// The infinite sampler: each pass is a permutation, batches are pure functions of their index.
import { describe, expect, it } from "vitest";
import { createInfiniteSampler } from "./sampler.js";

describe("createInfiniteSampler", () => {
  it("covers every index once per pass, batches crossing pass boundaries", () => {
    const s = createInfiniteSampler({ length: 10, batchSize: 4, seed: 3 });
    const flat = [0, 1, 2, 3, 4].flatMap((k) => s(k)); // 20 = two passes
    expect([...flat.slice(0, 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...flat.slice(10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(flat.slice(0, 10)).not.toEqual(flat.slice(10));
  });

  it("gives the same batch for the same index in any call order (resume)", () => {
    const a = createInfiniteSampler({ length: 7, batchSize: 3, seed: 1 });
    const b = createInfiniteSampler({ length: 7, batchSize: 3, seed: 1 });
    const forward = [0, 1, 2, 3, 4].map((k) => a(k));
    expect(b(4)).toEqual(forward[4]);
    expect(b(1)).toEqual(forward[1]);
  });

  it("without shuffling yields 0, 1, 2, ... cyclically", () => {
    const s = createInfiniteSampler({ length: 5, batchSize: 3, seed: 0, shuffle: false });
    expect([s(0), s(1)]).toEqual([
      [0, 1, 2],
      [3, 4, 0],
    ]);
  });
});
