// LanceDB's ANN index against exact search, on clustered unit vectors: recall@10 on every query.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../data/rng.js";
import { annRecall, annVectors, hasIndex, indexedSearch, resolveAnn } from "./ann.js";
import { CurateGemm } from "./gemm.js";
import { normalizeRows } from "./knn.js";
import { CurateStore } from "./store.js";
import { tempDir } from "./test-fixture.cases.js";

const DIM = 32;

function clustered(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const centres = Array.from({ length: 40 }, () => Array.from({ length: DIM }, () => rng.normal()));
  const x = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(0, centres.length)]!;
    for (let d = 0; d < DIM; d++) x[i * DIM + d] = c[d]! + rng.normal(0, 0.5);
  }
  return normalizeRows(x, DIM);
}

let store: CurateStore;
let gemm: CurateGemm;
beforeAll(async () => {
  store = await CurateStore.open(await tempDir("ann"));
  gemm = await CurateGemm.create(DIM, { threads: 1, rowBlock: 128 });
});
afterAll(async () => {
  await gemm?.release();
  store?.close();
});

describe("ANN through LanceDB's index", () => {
  it("auto keeps exact search below the size threshold", () => {
    expect(resolveAnn("auto", 99_999)).toBe("exact");
    expect(resolveAnn("auto", 100_000)).toBe("ivf-pq");
    expect(resolveAnn("hnsw-sq", 10)).toBe("hnsw-sq");
  });

  for (const kind of ["ivf-pq", "hnsw-sq"] as const) {
    it(`${kind}: recall@10 against exact search`, async () => {
      // Queries from the same distribution as the base, held out of it.
      const all = clustered(4050, 1);
      const base = all.subarray(0, 4000 * DIM);
      const queries = all.subarray(4000 * DIM);
      const { search } = await indexedSearch(store, kind, annVectors(kind, base, DIM));
      const recall = await annRecall(gemm, search, base, queries, 10);
      console.log(`${kind} recall@10 on 4000×${DIM} (50 queries): ${recall.toFixed(3)}`);
      expect(recall).toBeGreaterThanOrEqual(0.9);
    }, 120_000);
  }

  it("reuses a finished index over the same vectors and rebuilds for other vectors", async () => {
    const base = clustered(600, 2);
    const other = clustered(600, 3);
    expect(await hasIndex(store, "reuse", annVectors("hnsw-sq", base, DIM))).toBe(false);
    const first = await indexedSearch(store, "reuse", annVectors("hnsw-sq", base, DIM));
    expect(first.built).toBe(true);
    expect(await hasIndex(store, "reuse", annVectors("hnsw-sq", base, DIM))).toBe(true);
    // Another kind or other vectors under the same name do not match the recorded fingerprint.
    expect(await hasIndex(store, "reuse", annVectors("ivf-pq", base, DIM))).toBe(false);
    expect(await hasIndex(store, "reuse", annVectors("hnsw-sq", other, DIM))).toBe(false);
    const again = await indexedSearch(store, "reuse", annVectors("hnsw-sq", base, DIM));
    expect(again.built).toBe(false);
    const q = base.subarray(0, 5 * DIM);
    expect((await again.search(base, q, 3)).indices).toEqual(
      (await first.search(base, q, 3)).indices,
    );
    expect((await indexedSearch(store, "reuse", annVectors("hnsw-sq", other, DIM))).built).toBe(
      true,
    );
    expect(await hasIndex(store, "reuse", annVectors("hnsw-sq", base, DIM))).toBe(false);
  }, 120_000);
});
