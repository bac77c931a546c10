// Which images a k-NN evaluation indexes and which it queries: stratified over classes and
// deterministic per seed, never taking "the first N files" (sorted folders put whole classes
// first) and never letting a query find itself in the index.
import { createRng } from "../data/rng.js";

export interface KnnSplit {
  /** Dataset positions of the index (the "train" side of k-NN). */
  readonly index: readonly number[];
  /** Dataset positions of the queries; disjoint from `index` when both come from one dataset. */
  readonly queries: readonly number[];
}

/** Positions of each class, in dataset order. */
function byClass(labels: readonly number[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  labels.forEach((l, i) => {
    if (l < 0) throw new RangeError(`k-NN needs labeled images; position ${i} has none`);
    const list = m.get(l) ?? [];
    list.push(i);
    m.set(l, list);
  });
  return new Map([...m].sort(([a], [b]) => a - b));
}

/**
 * Per-class shares of `total` proportional to the class sizes (largest remainders), each at most
 * its class size.
 */
function shares(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  if (total >= n) return [...sizes];
  const exact = sizes.map((s) => (s * total) / n);
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0, left = total - out.reduce((a, b) => a + b, 0); left > 0; k++, left--)
    out[order[k]![1]]!++;
  return out;
}

/** Up to `max` positions, each class keeping its share, drawn at random per seed; sorted. */
export function stratifiedSample(labels: readonly number[], max: number, seed: number): number[] {
  const classes = [...byClass(labels)];
  const take = shares(
    classes.map(([, p]) => p.length),
    max,
  );
  const rng = createRng(seed).split("knn-sample");
  const out: number[] = [];
  classes.forEach(([c, positions], k) => {
    out.push(
      ...rng
        .split(c)
        .shuffle([...positions])
        .slice(0, take[k]),
    );
  });
  return out.sort((a, b) => a - b);
}

export interface HeldOutOptions {
  readonly seed: number;
  /** Share of each class held out as queries (default 0.2); at least one per class of >= 2. */
  readonly queryFraction?: number;
  readonly maxIndex?: number;
  readonly maxQueries?: number;
}

/**
 * Splits one labeled dataset into a k-NN index and held-out queries that never overlap: each class
 * contributes `queryFraction` of its images to the queries and the rest to the index, drawn at
 * random per seed; both sides are then capped, stratified.
 */
export function heldOutSplit(labels: readonly number[], o: HeldOutOptions): KnnSplit {
  const frac = o.queryFraction ?? 0.2;
  if (!(frac > 0 && frac < 1)) throw new RangeError(`queryFraction must be in (0, 1); got ${frac}`);
  const rng = createRng(o.seed).split("knn-held-out");
  const index: number[] = [];
  const queries: number[] = [];
  for (const [c, positions] of byClass(labels)) {
    const p = rng.split(c).shuffle([...positions]);
    const q = p.length < 2 ? 0 : Math.min(p.length - 1, Math.max(1, Math.round(frac * p.length)));
    queries.push(...p.slice(0, q));
    index.push(...p.slice(q));
  }
  const cap = (pos: number[], max: number | undefined, key: number) => {
    if (max === undefined || pos.length <= max) return pos.sort((a, b) => a - b);
    const keep = stratifiedSample(
      pos.map((i) => labels[i]!),
      max,
      o.seed + key,
    );
    return keep.map((k) => pos[k]!).sort((a, b) => a - b);
  };
  return { index: cap(index, o.maxIndex, 1), queries: cap(queries, o.maxQueries, 2) };
}
