// The k-NN monitor of `train --val`: index and queries never overlap and are stratified over
// classes, deterministic per seed; every evaluation runs through one session.
import { describe, expect, it } from "vitest";
import type { ImageFolderSpec } from "../data/datasets/image-folder.js";
import { heldOutSplit, stratifiedSample } from "../eval/knn-split.js";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../models/presets.js";
import { createRuntime } from "../runtime/index.js";
import { knnMonitor, type LabeledImages, planKnnSets } from "./knn-monitor.js";

/** A scanned folder as sorted folders come: all of class 0, then all of class 1, ... */
function folder(perClass: readonly number[], classNames: readonly string[]): ImageFolderSpec {
  const labels = perClass.flatMap((n, c) => Array<number>(n).fill(c));
  return {
    kind: "image-folder",
    root: "/data",
    files: labels.map((l, i) => `/data/${classNames[l] ?? ""}/${i}.png`),
    labels,
    classNames,
  };
}

const count = (labels: readonly number[], positions: readonly number[], c: number) =>
  positions.filter((p) => labels[p] === c).length;

describe("k-NN sets", () => {
  it("held-out split: disjoint, a fifth of every class queried, the same per seed", () => {
    const labels = folder([10, 20, 5], ["a", "b", "c"]).labels;
    const s = heldOutSplit(labels, { seed: 3 });
    expect(s.index.filter((i) => s.queries.includes(i))).toEqual([]);
    expect(s.index.length + s.queries.length).toBe(35);
    expect([0, 1, 2].map((c) => count(labels, s.queries, c))).toEqual([2, 4, 1]);
    expect(heldOutSplit(labels, { seed: 3 })).toEqual(s);
    expect(heldOutSplit(labels, { seed: 4 }).queries).not.toEqual(s.queries);
  });

  it("caps stratified, not by taking the first files of a sorted folder", () => {
    const labels = folder([100, 100, 100], ["a", "b", "c"]).labels;
    const sample = stratifiedSample(labels, 30, 1);
    expect([0, 1, 2].map((c) => count(labels, sample, c))).toEqual([10, 10, 10]);
    const s = heldOutSplit(labels, { seed: 1, maxIndex: 6, maxQueries: 3 });
    expect([0, 1, 2].map((c) => count(labels, s.index, c))).toEqual([2, 2, 2]);
    expect([0, 1, 2].map((c) => count(labels, s.queries, c))).toEqual([1, 1, 1]);
  });

  it("unlabeled --data: --val is split into an index and held-out queries, and says so", () => {
    const data = folder([7], []); // files directly in the root: label -1
    const data2: ImageFolderSpec = { ...data, labels: data.labels.map(() => -1) };
    const val = folder([6, 6], ["cat", "dog"]);
    const p = planKnnSets(data2, val, 0);
    expect(p.index.spec).toBe(val);
    expect(p.queries.spec).toBe(val);
    expect(p.index.positions.filter((i) => p.queries.positions.includes(i))).toEqual([]);
    expect(p.queries.positions.map((i) => val.labels[i]).sort()).toEqual([0, 1]);
    expect(p.description).toMatchInlineSnapshot(
      `"k-NN monitor: --data has no class labels, so --val is split: index 10 images, held-out queries 2 images (disjoint, stratified over 2 classes, seed 0)"`,
    );
  });

  it("labeled --data indexes --data and queries --val; different classes are refused", () => {
    const data = folder([50, 50], ["cat", "dog"]);
    const val = folder([4, 4], ["cat", "dog"]);
    const p = planKnnSets(data, val, 0, 20);
    expect(p.index.spec).toBe(data);
    expect([0, 1].map((c) => count(data.labels, p.index.positions, c))).toEqual([10, 10]);
    expect(p.queries.spec).toBe(val);
    expect(p.queries.positions).toHaveLength(8);
    expect(() => planKnnSets(data, folder([4], ["cow"]), 0)).toThrow(
      "--data and --val name different classes (--data: cat, dog; --val: cow)",
    );
  });
});

describe("k-NN monitor", () => {
  it("keeps one session over 20 evaluations of changing weights", async () => {
    const opts: VitOptions = { ...VIT_DEFAULTS, imgSize: 28, embedDim: 24, depth: 1, numHeads: 2 };
    const side = 28;
    const set = (n: number, seed: number): LabeledImages => ({
      images: Float32Array.from({ length: n * 3 * side * side }, (_, i) => Math.sin(i * seed)),
      labels: Int32Array.from({ length: n }, (_, i) => i % 2),
      count: n,
      side,
    });
    const rt = await createRuntime({ threads: 1 });
    const monitor = knnMonitor(rt, opts, set(12, 1), set(4, 2), [10]);
    for (let i = 0; i < 20; i++) {
      const r = await monitor(createBackbone(opts, i).weights);
      expect(Object.keys(r)).toEqual(["knn_top1_k10"]);
      expect(rt.cachedSessions).toBe(1);
    }
    await rt.dispose();
  }, 60_000);
});
