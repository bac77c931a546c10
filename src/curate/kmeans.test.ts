import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CurateGemm } from "./gemm.js";
import { balancedSample, hierarchicalKMeans, splitEvenly } from "./hierarchical.js";
import { kmeans } from "./kmeans.js";

/** The data of /tmp/km_ref.py below: an LCG shared with Python, 12 overlapping blobs in 8-d. */
function lcgData(n: number, dim: number, centres: number, seed: number): Float32Array {
  let s = BigInt(seed);
  const u = (): number => {
    s = (s * 1103515245n + 12345n) % 2147483648n;
    return Number(s) / 2147483648;
  };
  const c: number[][] = [];
  for (let i = 0; i < centres; i++) c.push(Array.from({ length: dim }, () => u() * 10 - 5));
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++)
      x[i * dim + d] = c[i % centres]![d]! + 1.5 * (u() + u() + u() - 1.5);
  }
  return x;
}

// scikit-learn 1.2.1, float64: KMeans(n_clusters=k, n_init=10, random_state=0).fit(x).inertia_
// with x = lcg_data(3000, 8, 12, 7) as written in Python:
//   def lcg_data(n, dim, centres, seed):
//       s = seed
//       def u():
//           nonlocal s; s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648
//       c = np.array([[u() * 10 - 5 for _ in range(dim)] for _ in range(centres)])
//       return np.array([[c[i % centres, d] + 1.5 * (u() + u() + u() - 1.5) for d in range(dim)]
//                        for i in range(n)], dtype=np.float32)
const SKLEARN_INERTIA: Readonly<Record<number, number>> = {
  12: 13455.331693358761,
  20: 12529.31698776549,
};

let gemm: CurateGemm;
beforeAll(async () => {
  gemm = await CurateGemm.create(8, { threads: 1, rowBlock: 512 });
});
afterAll(() => gemm?.release());

describe("kmeans", () => {
  const x = lcgData(3000, 8, 12, 7);

  for (const k of [12, 20]) {
    for (const init of ["kmeans++", "random"] as const) {
      it(`${init}, k=${k}: inertia within 1% of scikit-learn's`, async () => {
        const r = await kmeans(gemm, x, {
          k,
          init,
          restarts: 10,
          iterations: 300,
          maxPointsPerCentroid: 1000,
          seed: 1,
        });
        expect(Math.abs(r.objective / SKLEARN_INERTIA[k]! - 1)).toBeLessThan(0.01);
        expect(new Set(r.labels).size).toBe(k);
      }, 60_000);
    }
  }

  it("re-seeds empty clusters by splitting (FAISS) and subsamples large inputs", async () => {
    // 200 points on 2 spots; random init draws duplicates of the same spot, leaving clusters empty.
    const dup = new Float32Array(200 * 8);
    for (let i = 0; i < 200; i++) dup[i * 8] = i < 180 ? 1 : 5;
    const r = await kmeans(gemm, dup, { k: 4, init: "random", iterations: 10, seed: 0 });
    expect(r.splits).toBeGreaterThan(0);
    // Both spots got a cluster; a split centroid sits a relative 1/1024 off its spot: 180·(1/1024)² ≈ 2e-4.
    expect(r.objective).toBeLessThan(1e-3);
    // Subsampling: k × 16 = 192 training points out of 3000 still land near the full optimum.
    const s = await kmeans(gemm, x, { k: 12, maxPointsPerCentroid: 16, restarts: 3, seed: 2 });
    expect(s.objective / SKLEARN_INERTIA[12]!).toBeLessThan(1.05);
  });

  it("spherical: unit centroids, objective Σ(1 − cos) no worse than its initialisation", async () => {
    const unit = Float32Array.from(x);
    for (let i = 0; i < 3000; i++) {
      const n = Math.hypot(...unit.subarray(i * 8, i * 8 + 8));
      for (let d = 0; d < 8; d++) unit[i * 8 + d]! /= n;
    }
    const seen: number[] = [];
    const r = await kmeans(gemm, unit, {
      k: 12,
      spherical: true,
      seed: 0,
      onIteration: (_, o) => seen.push(o),
    });
    for (let c = 0; c < 12; c++)
      expect(Math.hypot(...r.centroids.subarray(c * 8, c * 8 + 8))).toBeCloseTo(1, 5);
    expect(r.objective).toBeLessThanOrEqual(seen[0]! + 1e-6);
    expect(seen.every((o, i) => i === 0 || o <= seen[i - 1]! + 1e-3)).toBe(true);
  });
});

describe("hierarchical k-means and balanced sampling", () => {
  it("splitEvenly water-fills: small groups give all they have", () => {
    expect(splitEvenly([1000, 300, 100, 50, 20], 250)).toEqual([60, 60, 60, 50, 20]);
    expect(splitEvenly([3, 3, 3], 4)).toEqual([2, 1, 1]);
    expect(splitEvenly([2, 2], 10)).toEqual([2, 2]);
  });

  it("samples a skewed pool evenly across its concepts", async () => {
    // 5 far-apart concepts of very different sizes, each made of 4 sub-modes.
    const sizes = [1000, 300, 100, 50, 20];
    const concept: number[] = [];
    const rows: number[] = [];
    let seed = 11n;
    const u = (): number => {
      seed = (seed * 1103515245n + 12345n) % 2147483648n;
      return Number(seed) / 2147483648;
    };
    sizes.forEach((n, c) => {
      for (let i = 0; i < n; i++) {
        concept.push(c);
        for (let d = 0; d < 8; d++)
          rows.push((d === c ? 50 : 0) + (d === 7 ? (i % 4) * 5 : 0) + u());
      }
    });
    const x = Float32Array.from(rows);
    const h = await hierarchicalKMeans(gemm, x, [20, 5], { restarts: 3, seed: 0 });
    const sample = balancedSample(h, 250, 0);
    const perConcept = [0, 0, 0, 0, 0];
    for (const i of sample) perConcept[concept[i]!]!++;
    // Balanced: 250 over 5 concepts, the 20-image concept gives all 20, the rest share evenly.
    expect(perConcept).toEqual([60, 60, 60, 50, 20]);
    // A uniform random sample of 250 would follow the pool: about 170, 51, 17, 8, 3.
    expect(new Set(sample).size).toBe(250);
  }, 60_000);
});
