// Seeded, splittable host RNG (xoshiro128** seeded by a murmur3-mixed key path). `split(key)`
// derives an independent stream from the parent's key path only, never from its draw count.

import { xoshiro128ss } from "../core/xoshiro.js";

export type RngKey = number | string;

/** A stateful stream of random numbers; create with `createRng(seed)`, derive with `split`. */
export interface Rng {
  /** The key path this stream was derived from, e.g. "7/sample/3" (for error messages). */
  readonly path: string;
  /** An independent stream for `key`; the same parent path and key always give the same stream. */
  split(key: RngKey): Rng;
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform in [lo, hi) with 53 random bits (defaults [0, 1)). */
  uniform(lo?: number, hi?: number): number;
  /** Normal(mean, std) by Box-Muller (one pair consumed per value). */
  normal(mean?: number, std?: number): number;
  /** A uniform integer in [lo, hiExclusive), without modulo bias. */
  int(lo: number, hiExclusive: number): number;
  /** True with probability p (uniform() < p, as torch.rand(1) < p). */
  bernoulli(p: number): boolean;
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** A random permutation of 0 .. n-1 (torch.randperm). */
  permutation(n: number): Int32Array;
}

/** A fresh stream for `seed` (an integer up to 2^53 or a string). */
export function createRng(seed: RngKey): Rng {
  return fromKey(mixKey([0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x7f4a7c15], seed), String(seed));
}

function fromKey(key: readonly number[], path: string): Rng {
  const nextU32 = xoshiro128ss(new Uint32Array(key));
  const uniform01 = (): number => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 2 ** 53;
  const int = (lo: number, hiExclusive: number): number => {
    const range = hiExclusive - lo;
    if (!Number.isInteger(lo) || !Number.isInteger(range) || range < 1 || range > 2 ** 32) {
      throw new RangeError(
        `rng.int: needs integers lo < hi within 2^32; got [${lo}, ${hiExclusive})`,
      );
    }
    const limit = 2 ** 32 - (2 ** 32 % range);
    let v = nextU32();
    while (v >= limit) v = nextU32();
    return lo + (v % range);
  };
  const rng: Rng = {
    path,
    split: (k) => fromKey(mixKey(key, k), `${path}/${k}`),
    nextU32,
    uniform: (lo = 0, hi = 1) => lo + (hi - lo) * uniform01(),
    normal: (mean = 0, std = 1) => {
      const u1 = 1 - uniform01(); // (0, 1]: log stays finite
      const u2 = uniform01();
      return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    int,
    bernoulli: (p) => uniform01() < p,
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(0, i + 1);
        const tmp = items[i]!;
        items[i] = items[j]!;
        items[j] = tmp;
      }
      return items;
    },
    permutation: (n) => {
      const p = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = int(0, i + 1);
        const tmp = p[i]!;
        p[i] = p[j]!;
        p[j] = tmp;
      }
      return p;
    },
  };
  return rng;
}

/** Mixes a key (integer or string) into a 128-bit parent key with murmur3's finaliser. */
function mixKey(parent: readonly number[], key: RngKey): number[] {
  const words = keyWords(key);
  const out: number[] = [];
  for (let lane = 0; lane < 4; lane++) {
    let h = (parent[lane]! ^ Math.imul(lane + 1, 0x85ebca6b)) >>> 0;
    for (const w of words) h = fmix32((h ^ fmix32((w + Math.imul(lane, 0x9e3779b9)) >>> 0)) >>> 0);
    out.push(fmix32((h ^ parent[(lane + 1) % 4]!) >>> 0));
  }
  return out;
}

/** Integers → [tag, lo, hi]; strings → [tag, length, code units...]; tags keep 1 and "1" apart. */
function keyWords(key: RngKey): number[] {
  if (typeof key === "number") {
    if (!Number.isSafeInteger(key) || key < 0) {
      throw new RangeError(`rng key must be a non-negative safe integer or a string; got ${key}`);
    }
    return [1, key >>> 0, Math.floor(key / 2 ** 32) >>> 0];
  }
  const words = [2, key.length];
  for (let i = 0; i < key.length; i++) words.push(key.charCodeAt(i));
  return words;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
