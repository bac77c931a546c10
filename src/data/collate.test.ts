// collateSsl: crop-major stacking, mask counts, weights and the static upperbound.
import { describe, expect, it } from "vitest";
import { collateSsl, type SslSample } from "./collate.js";
import { linspaceF32, truncMulF32 } from "./python-numerics.js";
import { createRng } from "./rng.js";

const G = 28;
const L = 14;
const sample = (b: number, nL: number): SslSample => ({
  globalCrops: [0, 1].map((i) => new Float32Array(3 * G * G).fill(b * 10 + i)),
  localCrops: Array.from({ length: nL }, (_, i) =>
    new Float32Array(3 * L * L).fill(100 + b * 10 + i),
  ),
  label: b,
});

describe("collateSsl", () => {
  const B = 4;
  const nL = 3;
  const batch = collateSsl(
    Array.from({ length: B }, (_, b) => sample(b, nL)),
    {
      maskRatioMinMax: [0.1, 0.5],
      maskProbability: 0.5,
      patchSize: 7,
      globalCropsSize: G,
      rng: createRng(0),
    },
  );
  const N = 16;

  it("stacks crops crop-major with the documented shapes", () => {
    expect(batch.globalCrops.length).toBe(2 * B * 3 * G * G);
    expect(batch.localCrops.length).toBe(nL * B * 3 * L * L);
    expect([batch.nPatches, batch.localCropsSize, batch.nGlobalCrops, batch.nLocalCrops]).toEqual([
      N,
      L,
      2,
      nL,
    ]);
    const g = 3 * G * G;
    const l = 3 * L * L;
    // row i*B + b holds sample b's crop i
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((r) => batch.globalCrops[r * g])).toEqual([
      0, 10, 20, 30, 1, 11, 21, 31,
    ]);
    expect(batch.localCrops[(2 * B + 1) * l]).toBe(100 + 10 + 2);
    expect([...batch.labels]).toEqual([0, 1, 2, 3]);
  });

  it("masks int(2B · p) crops, each below its stratum bound, and pads indices to the upperbound", () => {
    const nMasked = Math.trunc(2 * B * 0.5);
    const probs = linspaceF32(0.1, 0.5, nMasked + 1);
    let upper = 0;
    for (let i = 0; i < nMasked; i++) upper += truncMulF32(N, probs[i + 1]!);
    expect(batch.upperbound).toBe(upper);
    expect(batch.maskIndices.length).toBe(upper);
    expect(batch.maskWeights.length).toBe(upper);
    const counts = Array.from({ length: 2 * B }, (_, c) =>
      batch.masks.subarray(c * N, (c + 1) * N).reduce((a, v) => a + v, 0),
    );
    expect(counts.filter((c) => c === 0).length).toBeGreaterThanOrEqual(2 * B - nMasked);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(batch.nMaskedPatches).toBe(total);
    expect(total).toBeLessThanOrEqual(upper);
    for (let k = 0; k < upper; k++) {
      if (k < total) {
        const idx = batch.maskIndices[k]!;
        expect(batch.masks[idx]).toBe(1);
        expect(batch.maskWeights[k]).toBeCloseTo(1 / counts[Math.floor(idx / N)]!, 7);
      } else {
        expect([batch.maskIndices[k], batch.maskWeights[k]]).toEqual([0, 0]);
      }
    }
  });

  it("each masked crop's weights sum to 1 (a per-crop mean)", () => {
    const perCrop = new Map<number, number>();
    for (let k = 0; k < batch.nMaskedPatches; k++) {
      const c = Math.floor(batch.maskIndices[k]! / N);
      perCrop.set(c, (perCrop.get(c) ?? 0) + batch.maskWeights[k]!);
    }
    for (const s of perCrop.values()) expect(s).toBeCloseTo(1, 5);
  });

  it("rejects samples with inconsistent crops, naming the sample", () => {
    const bad = [sample(0, 2), sample(1, 3)];
    const opts = {
      maskRatioMinMax: [0.1, 0.5],
      maskProbability: 0.5,
      patchSize: 7,
      globalCropsSize: G,
      rng: createRng(0),
    } as const;
    expect(() => collateSsl(bad, opts)).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: collateSsl: sample 1 has 3 local crops, expected 2]`,
    );
  });
});
