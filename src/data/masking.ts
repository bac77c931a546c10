// BEiT-style block masking for iBOT. Port of dinov2/data/masking.py (MaskingGenerator), with the
// max_num_patches expression of dinov2/train/train.py.
import { roundHalfEven } from "./python-numerics.js";
import type { Rng } from "./rng.js";

export interface MaskingGeneratorOptions {
  /** Patch grid height and width (global crop size // patch size). */
  readonly height: number;
  readonly width: number;
  readonly minNumPatches?: number;
  /** Largest block added in one step; defaults to half the grid (the official train.py value). */
  readonly maxNumPatches?: number;
  readonly minAspect?: number;
  readonly maxAspect?: number;
}

/** Draws a [height × width] 0/1 mask with about `numMasking` patches in random blocks. */
export type MaskingGenerator = (numMasking: number, rng: Rng) => Uint8Array;

/**
 * train.py's `0.5 * img_size // patch_size * img_size // patch_size`, which Python evaluates left to
 * right: floor(floor(floor(S / 2 / p) · S) / p). 128 for 224/14; not always half the grid (666 for 518/14).
 */
export function officialMaxNumPatches(imgSize: number, patchSize: number): number {
  return Math.floor((Math.floor((0.5 * imgSize) / patchSize) * imgSize) / patchSize);
}

/** MaskingGenerator(input_size, min_num_patches=4, min_aspect=0.3, max_aspect=1/0.3). */
export function createMaskingGenerator(opts: MaskingGeneratorOptions): MaskingGenerator {
  const { height: H, width: W } = opts;
  const minPatches = opts.minNumPatches ?? 4;
  const maxPatches = opts.maxNumPatches ?? 0.5 * H * W;
  const minAspect = opts.minAspect ?? 0.3;
  const logAspect = [Math.log(minAspect), Math.log(opts.maxAspect ?? 1 / minAspect)] as const;

  /** One block: up to 10 tries; returns how many new patches it masked (0 = no progress). */
  const addBlock = (mask: Uint8Array, maxMask: number, rng: Rng): number => {
    let delta = 0;
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = rng.uniform(minPatches, maxMask);
      const aspect = Math.exp(rng.uniform(logAspect[0], logAspect[1]));
      const h = roundHalfEven(Math.sqrt(targetArea * aspect));
      const w = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w < W && h < H) {
        const top = rng.int(0, H - h + 1);
        const left = rng.int(0, W - w + 1);
        let already = 0;
        for (let i = top; i < top + h; i++) {
          for (let j = left; j < left + w; j++) already += mask[i * W + j]!;
        }
        const fresh = h * w - already;
        if (fresh > 0 && fresh <= maxMask) {
          for (let i = top; i < top + h; i++) {
            for (let j = left; j < left + w; j++) {
              if (mask[i * W + j] === 0) {
                mask[i * W + j] = 1;
                delta++;
              }
            }
          }
        }
        if (delta > 0) break;
      }
    }
    return delta;
  };

  return (numMasking, rng) => {
    const mask = new Uint8Array(H * W);
    let count = 0;
    while (count < numMasking) {
      const maxMask = Math.min(numMasking - count, maxPatches);
      const delta = addBlock(mask, maxMask, rng);
      if (delta === 0) break;
      count += delta;
    }
    return mask;
  };
}
