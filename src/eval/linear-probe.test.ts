import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { linearProbe } from "./linear-probe.js";
import type { FeatureSet } from "./metrics.js";

/** n points per class around well-separated centres ±3 on one axis each, noise ±0.5. */
function blobs(perClass: number, classes: number, dim: number, seed: number): FeatureSet {
  let s = seed;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  const features = new Float32Array(perClass * classes * dim);
  const labels = new Int32Array(perClass * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let d = 0; d < dim; d++) {
      const centre = d === c >> 1 ? (c % 2 === 0 ? 3 : -3) : 0;
      features[i * dim + d] = centre + rnd();
    }
  }
  return { features, labels, dim };
}

describe("linearProbe", () => {
  it("reaches 100% on linearly separable data, picking a learning rate that trains", async () => {
    const rt = await testRuntime();
    const train = blobs(20, 4, 5, 3);
    const val = blobs(10, 4, 5, 11);
    const r = await linearProbe(rt, train, val, {
      learningRates: [1e-6, 1, 10],
      iterations: 60,
      batchSize: 16,
    });
    expect(r.top1).toBe(1);
    expect(r.top5).toBe(1);
    expect(r.bestLr).not.toBe(1e-6);
    expect(r.heads.map((h) => h.lr)).toEqual([1e-6, 1, 10]);
    expect(r.heads[0]!.top1).toBeLessThan(1);
    expect(r.weight.length).toBe(5 * 4);
    expect(r.bias.length).toBe(4);
    expect(r.losses).toHaveLength(60);
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]! / 2);
  });

  it("is deterministic for a seed", async () => {
    const rt = await testRuntime();
    const train = blobs(8, 3, 4, 5);
    const val = blobs(4, 3, 4, 6);
    const opts = { learningRates: [1], iterations: 10, batchSize: 8, seed: 3 };
    const a = await linearProbe(rt, train, val, opts);
    const b = await linearProbe(rt, train, val, opts);
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(a.losses).toEqual(b.losses);
  });

  it("rejects a val label outside the classes", async () => {
    const rt = await testRuntime();
    const train = blobs(2, 2, 2, 1);
    const val = { ...train, labels: Int32Array.from([0, 1, 2, 0]) };
    await expect(linearProbe(rt, train, val)).rejects.toThrowErrorMatchingInlineSnapshot(`
      [ShapeError: linearProbe: val labels[2] is 2; expected a class in [0, 2)
        hint: pass numClasses when the train labels do not contain the largest class]
    `);
  });
});
