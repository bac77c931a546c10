// Hierarchical k-means and balanced sampling, written from Vo et al. 2024 ("Automatic data
// curation for self-supervised learning: a clustering-based approach", §3–4), not from their code.
// Level 1 clusters the points; level t clusters the centroids of level t − 1, so the top level
// groups concepts rather than points and a concept with many near-identical images weighs no more
// than a rare one. Sampling then walks down: a budget is split as evenly as possible among the top
// clusters (a cluster that holds fewer points than its share gives all it has and the rest is
// re-split among the others), then recursively among each cluster's children, and finally drawn
// at random inside the level-1 clusters. (The paper's extra "resampling" refinement steps inside
// each level are not implemented.)
import { createRng, type Rng } from "../data/rng.js";
import { CurateError } from "./errors.js";
import type { CurateGemm } from "./gemm.js";
import { type KMeansOptions, kmeans } from "./kmeans.js";

export interface Hierarchy {
  /** Clusters per level, bottom (points) first. */
  readonly ks: readonly number[];
  /** levels[t][j]: the level-(t+1) cluster of level-t item j (items: points at t = 0). */
  readonly parents: readonly Int32Array[];
  /** Centroids of each level, [ks[t], D]. */
  readonly centroids: readonly Float32Array[];
}

export type LevelOptions = Omit<KMeansOptions, "k" | "onIteration" | "assign">;

/** Builds the hierarchy; `ks` must decrease (e.g. [1000, 100, 10]). */
export async function hierarchicalKMeans(
  gemm: CurateGemm,
  x: Float32Array,
  ks: readonly number[],
  opts: LevelOptions = {},
  onLevel?: (level: number) => void,
  /** False: level 0 is trained but its points are not assigned (parents[0] is empty). */
  assignPoints = true,
): Promise<Hierarchy> {
  if (ks.length === 0 || ks.some((k, i) => i > 0 && k >= ks[i - 1]!)) {
    throw new CurateError(
      "--levels",
      `cluster counts must decrease level by level; got [${ks}]`,
      "e.g. --levels 1000,100,10",
    );
  }
  const parents: Int32Array[] = [];
  const centroids: Float32Array[] = [];
  let items = x;
  for (const [t, k] of ks.entries()) {
    const r = await kmeans(gemm, items, {
      ...opts,
      k,
      seed: (opts.seed ?? 0) + t,
      assign: t > 0 || assignPoints,
    });
    parents.push(r.labels);
    centroids.push(r.centroids);
    items = r.centroids;
    onLevel?.(t);
  }
  return { ks, parents, centroids };
}

/**
 * Draws `budget` points balanced across the hierarchy; returns point indices, ascending.
 * @example balancedSample(h, 1000, 0) // ≤ 1000 indices, evenly spread over the top clusters
 */
export function balancedSample(h: Hierarchy, budget: number, seed: number): Int32Array {
  const levels = h.ks.length;
  // children[t][c]: the level-t items whose parent is cluster c of level t+1.
  const children = h.parents.map((p, t) => groupBy(p, h.ks[t]!));
  const sizes: Float64Array[] = [];
  // sizes[t][j]: points under item j of level t (points: 1).
  sizes.push(new Float64Array(h.parents[0]!.length).fill(1));
  for (let t = 0; t < levels; t++) {
    const s = new Float64Array(h.ks[t]!);
    children[t]!.forEach((kids, c) => {
      for (const j of kids) s[c]! += sizes[t]![j]!;
    });
    sizes.push(s);
  }
  const rng = createRng(seed).split("balanced-sample");
  const out: number[] = [];
  const topItems = Array.from({ length: h.ks[levels - 1]! }, (_, c) => c);
  const walk = (level: number, items: readonly number[], quota: number, r: Rng): void => {
    // level: the level of `items` in sizes (level 0 = points).
    if (level === 0) {
      const perm = r.permutation(items.length);
      for (let i = 0; i < Math.min(quota, items.length); i++) out.push(items[perm[i]!]!);
      return;
    }
    const share = splitEvenly(
      items.map((j) => sizes[level]![j]!),
      quota,
    );
    items.forEach((j, i) => {
      if (share[i]! > 0)
        walk(level - 1, children[level - 1]![j]!, share[i]!, r.split(`${level}:${j}`));
    });
  };
  walk(levels, topItems, budget, rng);
  return Int32Array.from(out).sort();
}

/**
 * Splits `quota` among groups of the given sizes as evenly as possible: water-filling, so a
 * group never gets more than its size, and leftovers go to the lowest indices first.
 */
export function splitEvenly(sizes: readonly number[], quota: number): number[] {
  const share = sizes.map(() => 0);
  let left = Math.min(
    quota,
    sizes.reduce((a, b) => a + b, 0),
  );
  let open = sizes.map((_, i) => i).filter((i) => sizes[i]! > 0);
  while (left > 0 && open.length > 0) {
    const each = Math.floor(left / open.length);
    if (each === 0) {
      for (const i of open.slice(0, left)) share[i]!++;
      break;
    }
    for (const i of open) {
      const give = Math.min(each, sizes[i]! - share[i]!);
      share[i]! += give;
      left -= give;
    }
    open = open.filter((i) => share[i]! < sizes[i]!);
  }
  return share;
}

function groupBy(parent: Int32Array, k: number): number[][] {
  const g: number[][] = Array.from({ length: k }, () => []);
  for (let j = 0; j < parent.length; j++) g[parent[j]!]!.push(j);
  return g;
}
