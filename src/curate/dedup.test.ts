import { basename } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listImageInputs } from "../inference/image-inputs.js";
import { calibrate } from "./calibrate.js";
import {
  DEDUP_REMOVED,
  type DedupParams,
  dedupPart,
  descriptorOf,
  mergeDedup,
} from "./dedup-stage.js";
import { thresholdsFor } from "./descriptors.js";
import { hashFiles } from "./featurize.js";
import { CurateGemm } from "./gemm.js";
import { EXACT_DUPLICATES, REJECTS, readPool } from "./pool.js";
import { SINGLE } from "./shard.js";
import { column } from "./store.js";
import { type EmbeddedPool, embeddedPool } from "./test-fixture.cases.js";

let pool: EmbeddedPool;
let gemm: CurateGemm;

beforeAll(async () => {
  pool = await embeddedPool({ seed: 3, originals: 240, copies: 80, testImages: 20 });
  gemm = await CurateGemm.create(255, { threads: 1, rowBlock: 256 });
}, 180_000);
afterAll(async () => {
  await gemm?.release();
  pool?.store.close();
});

describe("curate embed", () => {
  it("lists zero-byte and truncated files as rejects with a reason, and drops exact duplicates", async () => {
    const r = await pool.store.read(REJECTS, ["path", "reason"]);
    const rejects = Object.fromEntries(
      column<string>(r, "path").map((p, i) => [basename(p), column<string>(r, "reason")[i]]),
    );
    expect(rejects).toEqual({
      "broken-empty.png": "zero-byte file",
      "broken-truncated.jpg": expect.stringMatching(/^undecodable: \S/),
    });
    const d = await pool.store.read(EXACT_DUPLICATES, ["path", "kept_path"]);
    expect(column<string>(d, "path").map((p) => basename(p))).toEqual([
      "orig-00000.png",
      "orig-00001.png",
    ]);
    expect(column<string>(d, "kept_path").map((p) => basename(p))).toEqual([
      "exact-00000.png",
      "exact-00001.png",
    ]);
    const p = await readPool(pool.store);
    // 240 originals + 80 copies + 20 near-test + 2 exact copies, less the 2 exact duplicates.
    expect(p.size).toBe(240 + 80 + 20);
    expect(p.embedding.length).toBe(p.size * 32);
  });
});

describe("curate dedup (pHash, calibrated default threshold)", () => {
  it("finds >= 99% of planted copies with >= 99% precision and removes the planted near-test images", async () => {
    const p = await readPool(pool.store);
    const { paths: testFiles } = { paths: (await listImageInputs([pool.synthetic.testDir])).files };
    const against = await hashFiles(testFiles);
    const t = thresholdsFor("phash", undefined, undefined);
    const params: DedupParams = {
      descriptor: "phash",
      k: 64,
      threshold: t.self,
      relativeThreshold: t.relative,
      against,
    };
    await dedupPart(pool.store, p, gemm, params, SINGLE);
    const s = await mergeDedup(pool.store, p, params, 1);
    const r = await pool.store.read(DEDUP_REMOVED, ["path", "reason", "kept_path", "group"]);
    const removed = column<string>(r, "path").map((x) => basename(x));
    const reason = column<string>(r, "reason");
    const keptOf = column<string>(r, "kept_path").map((x) => basename(x));
    const groupOf = column<number>(r, "group");
    // Planted pairs: a copy and its source. The exact duplicate took orig-00000/1's place.
    const source = (s: string) => s.replace(/^orig-0000([01])\.png$/, "exact-0000$1.png");
    const truePairs = new Set(
      pool.synthetic.copies.map((c) => [c.copy, source(c.source)].sort().join("|")),
    );
    // Found pairs: every pair inside a component (its removed members and its keeper).
    const components = new Map<number, Set<string>>();
    removed.forEach((x, i) => {
      if (reason[i] !== "copy") return;
      const g = components.get(groupOf[i]!) ?? new Set<string>();
      g.add(x).add(keptOf[i]!);
      components.set(groupOf[i]!, g);
    });
    const found = new Set<string>();
    for (const g of components.values()) {
      const m = [...g].sort();
      for (let i = 0; i < m.length; i++)
        for (let j = i + 1; j < m.length; j++) found.add(`${m[i]}|${m[j]}`);
    }
    const hits = [...found].filter((pair) => truePairs.has(pair)).length;
    const missed = [...truePairs].filter((pair) => !found.has(pair));
    const wrong = [...found].filter((pair) => !truePairs.has(pair));
    expect({ missed, wrong }).toEqual({ missed: [], wrong: [] });
    const recall = hits / truePairs.size;
    const precision = found.size === 0 ? 0 : hits / found.size;
    expect(recall).toBeGreaterThanOrEqual(0.99);
    expect(precision).toBeGreaterThanOrEqual(0.99);
    const nearRemoved = removed.filter((_, i) => reason[i] === "near-test").sort();
    expect(nearRemoved).toEqual(pool.synthetic.nearTest.map((c) => c.copy).sort());
    expect(s.kept).toBe(p.size - s.copies - s.nearTest);
  }, 60_000);

  it("the pHash default sits above every distinct pair of this pool (calibrate, as `curate calibrate`)", async () => {
    const p = await readPool(pool.store);
    const c = calibrate(p, descriptorOf(p, "phash"), pool.synthetic);
    // descriptors.ts: distinct originals reached 0.388 at most on seeds 1, 3, 5.
    expect(c.distinctPairs).toBe((240 * 239) / 2);
    expect(c.distinctMax).toBeLessThan(thresholdsFor("phash", undefined, undefined).self);
    expect(c.threshold).toBeLessThanOrEqual(0.4);
    expect(c.recall).toBeGreaterThanOrEqual(0.98);
  });
});
