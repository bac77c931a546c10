// Batches for the dense evaluations: images with the eval transform at crop = resize = S (shorter
// side to S, centre crop S×S, ImageNet normalisation) and their per-pixel targets resized the same
// way with nearest-neighbour sampling; read lazily, so memory holds one batch.
import type { DenseDataset } from "../data/datasets/dense.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/image.js";
import { roundHalfEven } from "../data/python-numerics.js";
import type { DenseBatch } from "../eval/dense-features.js";
import { preprocessInto, resizedSize } from "../inference/preprocess.js";

/** Yields batches of `batchSize` samples (the last may be shorter); unreadable samples are skipped. */
export async function* denseBatches<S extends { image: { height: number; width: number } }>(
  ds: DenseDataset<S>,
  side: number,
  batchSize: number,
  target: (sample: S) => ArrayLike<number>,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<DenseBatch> {
  const t = { resizePx: side, cropPx: side, mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const n = Math.min(ds.length, limit);
  const plane = side * side;
  let pixels = new Float32Array(batchSize * 3 * plane);
  let targets = new Float32Array(batchSize * plane);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const s = await ds.get(i);
    if (!s) continue;
    const img = s.image as unknown as Parameters<typeof preprocessInto>[0];
    preprocessInto(img, t, pixels, count * 3 * plane);
    targets.set(resizeTargetNearest(target(s), img.height, img.width, side), count * plane);
    count++;
    if (count === batchSize) {
      yield { pixels, targets, count };
      pixels = new Float32Array(batchSize * 3 * plane);
      targets = new Float32Array(batchSize * plane);
      count = 0;
    }
  }
  if (count > 0) yield { pixels, targets, count };
}

/** The target map through the image's geometry: shorter side to S (nearest), centre crop S×S. */
export function resizeTargetNearest(
  values: ArrayLike<number>,
  height: number,
  width: number,
  side: number,
): Float32Array {
  const [rh, rw] = resizedSize(height, width, side);
  const top = roundHalfEven((rh - side) / 2);
  const left = roundHalfEven((rw - side) / 2);
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + top) * height) / rh));
    for (let x = 0; x < side; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + left) * width) / rw));
      out[y * side + x] = values[sy * width + sx]!;
    }
  }
  return out;
}
