// An infinite, seeded sample order: one fresh permutation per pass over the dataset, batches
// taken consecutively across pass boundaries (like dinov2's infinite sampler), random access by batch.
import { createRng } from "./rng.js";

export interface InfiniteSamplerOptions {
  readonly length: number;
  readonly batchSize: number;
  readonly seed: number;
  /** false: 0, 1, 2, ... in order (default true). */
  readonly shuffle?: boolean;
}

/** Dataset indices of batch `k`; a pure function of (options, k), so resuming at k is exact. */
export type BatchSampler = (k: number) => number[];

export function createInfiniteSampler(opts: InfiniteSamplerOptions): BatchSampler {
  const { length, batchSize } = opts;
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`sampler: dataset length must be a positive integer; got ${length}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`sampler: batch size must be a positive integer; got ${batchSize}`);
  }
  const root = createRng(opts.seed).split("sampler");
  const shuffle = opts.shuffle ?? true;
  let cachedPass = -1;
  let cachedOrder: Int32Array | null = null;
  const orderOf = (pass: number): Int32Array | null => {
    if (!shuffle) return null;
    if (pass !== cachedPass) {
      cachedOrder = root.split(pass).permutation(length);
      cachedPass = pass;
    }
    return cachedOrder;
  };
  return (k) => {
    if (!Number.isSafeInteger(k) || k < 0) {
      throw new RangeError(`sampler: batch index must be a non-negative integer; got ${k}`);
    }
    const out: number[] = [];
    for (let j = 0; j < batchSize; j++) {
      const pos = k * batchSize + j;
      const pass = Math.floor(pos / length);
      const order = orderOf(pass);
      const at = pos - pass * length;
      out.push(order ? order[at]! : at);
    }
    return out;
  };
}
