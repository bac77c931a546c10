// Retrieval on a pool that mixes 10 classes, with a curated set of one class: the retrieved images
// must be mostly of that class. Tests have no trained backbone (a tiny random-init ViT retrieves
// near chance: 0.35 at 56 px, 0.09 at 28 px, measured while writing this), so the embeddings here
// are class-separable by construction: a class direction plus Gaussian noise. What is tested is
// the stage: neighbour search, index bookkeeping, cluster selection (> 3 queries), the cap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../data/rng.js";
import { clusterStage } from "./cluster-stage.js";
import { DEDUP_KEPT } from "./dedup-stage.js";
import { CurateGemm } from "./gemm.js";
import type { Pool } from "./pool.js";
import { RETRIEVED, retrieveStage } from "./retrieve-stage.js";
import { CurateStore, column } from "./store.js";
import { tempDir } from "./test-fixture.cases.js";

const DIM = 32;
const N = 400;
const CLASS = 3;

function classVectors(n: number, label: (i: number) => number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < DIM; d++) x[i * DIM + d] = (d === label(i) ? 1 : 0) + rng.normal(0, 0.1);
  }
  return x;
}

let store: CurateStore;
let gemm: CurateGemm;
const pool: Pool = {
  meta: { model: "class vectors", embeddingDim: DIM, imageSize: 0 },
  paths: Array.from({ length: N }, (_, i) => `img-${i}-class${i % 10}.png`),
  width: new Int32Array(N).fill(64),
  height: new Int32Array(N).fill(64),
  embedding: classVectors(N, (i) => i % 10, 1),
  phash: new Float32Array(0),
  size: N,
};
// Dedup dropped every 7th image: retrieval must map kept rows back to pool ids.
const kept = Int32Array.from({ length: N }, (_, i) => i).filter((i) => i % 7 !== 0);
const queries = {
  paths: Array.from({ length: 20 }, (_, i) => `q${i}.png`),
  embeddings: classVectors(20, () => CLASS, 2),
};

beforeAll(async () => {
  store = await CurateStore.open(await tempDir("retrieve"));
  gemm = await CurateGemm.create(DIM, { threads: 1, rowBlock: 64 });
  await store.write(
    DEDUP_KEPT,
    { id: "int32", path: "utf8" },
    Array.from(kept, (id) => ({ id, path: pool.paths[id]! })),
  );
  await clusterStage(store, pool, gemm, [20, 5], { restarts: 3, seed: 0 });
});
afterAll(async () => {
  await gemm?.release();
  store?.close();
});

async function retrievedClasses(): Promise<number[]> {
  const paths = column<string>(await store.read(RETRIEVED, ["path"]), "path");
  return paths.map((p) => Number(/class(\d)/.exec(p)![1]));
}

describe("curate retrieve", () => {
  it("sample-based: 4 neighbours per query, all of the curated class", async () => {
    const s = await retrieveStage(store, pool, kept, queries, gemm, {
      mode: "sample",
      perQuery: 4,
      perCluster: 0,
      minQueries: 3,
      cap: 1000,
      seed: 0,
    });
    const classes = await retrievedClasses();
    const ids = column<number>(await store.read(RETRIEVED, ["id"]), "id");
    expect(ids.every((id) => id % 7 !== 0)).toBe(true);
    const precision = classes.filter((c) => c === CLASS).length / classes.length;
    expect(precision).toBeGreaterThanOrEqual(0.95);
    // 20 queries × 4 neighbours, overlapping: between 4 and 40 distinct class members.
    expect(s.retrieved).toBe(classes.length);
    expect(classes.length).toBeGreaterThanOrEqual(4);
    expect(classes.length).toBeLessThanOrEqual(40);
  });

  it("cluster-based: clusters holding > 3 queries, M images each; the cap keeps the closest", async () => {
    const s = await retrieveStage(store, pool, kept, queries, gemm, {
      mode: "cluster",
      perQuery: 0,
      perCluster: 30,
      minQueries: 3,
      cap: 1000,
      seed: 0,
    });
    const classes = await retrievedClasses();
    expect(s.clustersSelected).toBeGreaterThanOrEqual(1);
    expect(classes.filter((c) => c === CLASS).length / classes.length).toBeGreaterThanOrEqual(0.95);
    const capped = await retrieveStage(store, pool, kept, queries, gemm, {
      mode: "both",
      perQuery: 4,
      perCluster: 30,
      minQueries: 3,
      cap: 10,
      seed: 0,
    });
    expect(capped.retrieved).toBe(10);
  });
});
