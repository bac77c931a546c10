// The official evaluation transform (dinov2/data/transforms.py make_classification_eval_transform):
// Resize(256, BICUBIC) -> CenterCrop(224) -> ToTensor -> Normalize(ImageNet), at any image size.
// Pure TypeScript (no Node or sharp imports): `dinov2 serve`'s page bundles this same file and
// feeds it canvas-decoded pixels (src/web/decode.ts); Node decodes with sharp (load-image.ts).

import { ConfigError } from "../config/errors.js";
import { applySeparable, bicubicWeights } from "../core/resample.js";
import { IMAGENET_MEAN, IMAGENET_STD, type Uint8Image } from "../data/image.js";
import { roundHalfEven } from "../data/python-numerics.js";

/** The transform's sizes and statistics; BitImageProcessor writes the same numbers. */
export interface EvalTransform {
  /** Shorter side after resizing: round(cropPx · 256 / 224). */
  readonly resizePx: number;
  /** Side of the square center crop fed to the model. */
  readonly cropPx: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * The eval transform at `imageSize` (a multiple of `patchSize`).
 * @example evalTransform(224) // { resizePx: 256, cropPx: 224, mean: [...], std: [...] }
 */
export function evalTransform(imageSize = 224, patchSize = 14): EvalTransform {
  checkImageSize(imageSize, patchSize);
  return {
    resizePx: Math.round((imageSize * 256) / 224),
    cropPx: imageSize,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
  };
}

/** Refuses an image side the patch grid cannot tile, naming the nearest sides that it can. */
export function checkImageSize(imageSize: number, patchSize: number): void {
  if (Number.isInteger(imageSize) && imageSize >= patchSize && imageSize % patchSize === 0) return;
  const below = Math.max(patchSize, Math.floor(imageSize / patchSize) * patchSize);
  const above = Math.max(patchSize, Math.ceil(imageSize / patchSize) * patchSize);
  const near = below === above ? `${below}` : `${below} or ${above}`;
  throw new ConfigError(
    "imageSize",
    `image size must be a positive multiple of the patch size ${patchSize}; got ${imageSize}`,
    { hint: `use ${near}` },
  );
}

/**
 * Applies the transform to decoded RGB pixels, writing [3, S, S] floats into `out` at `offset`.
 * Resizing is torchvision's antialiased bicubic; only the rows and columns that survive the crop
 * are computed. The resized image is rounded to uint8, as the official transform (on a PIL
 * image) produces it, before ToTensor and Normalize.
 */
export function preprocessInto(
  img: Uint8Image,
  t: EvalTransform,
  out: Float32Array,
  offset = 0,
): void {
  const { height: h, width: w } = img;
  const [rh, rw] = resizedSize(h, w, t.resizePx);
  const s = t.cropPx;
  const top = roundHalfEven((rh - s) / 2);
  const left = roundHalfEven((rw - s) / 2);
  const rows = taps(
    bicubicWeights(h, rh, { antialias: true }).subarray(top * h, (top + s) * h),
    s,
    h,
  );
  const cols = taps(
    bicubicWeights(w, rw, { antialias: true }).subarray(left * w, (left + s) * w),
    s,
    w,
  );
  const window = toPlanes(img, rows.lo, rows.hi, cols.lo, cols.hi);
  const resized = applySeparable(window, 3, rows.hi - rows.lo, cols.hi - cols.lo, rows.m, cols.m);
  const plane = s * s;
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(t.mean[c]!);
    const sd = Math.fround(t.std[c]!);
    const base = c * plane;
    for (let p = 0; p < plane; p++) {
      const v = Math.min(255, Math.max(0, Math.round(resized[base + p]!))); // [3, S, S], 0..255
      out[offset + base + p] = (Math.fround(v / 255) - m) / sd;
    }
  }
}

/** torchvision's Resize(int) size rule: shorter side to `short`, longer side truncated. */
export function resizedSize(height: number, width: number, short: number): [number, number] {
  if (width <= height) return [Math.trunc((short * height) / width), short];
  return [short, Math.trunc((short * width) / height)];
}

/**
 * The input range [lo, hi) that an [outSize, inSize] weight matrix reads, and the matrix
 * restricted to it: the pixels the crop discards are never converted or resampled.
 */
function taps(
  m: Float64Array,
  outSize: number,
  inSize: number,
): { m: Float64Array; lo: number; hi: number } {
  let lo = inSize;
  let hi = 0;
  for (let o = 0; o < outSize; o++) {
    const base = o * inSize;
    let first = 0;
    while (first < inSize && m[base + first] === 0) first++;
    let last = inSize;
    while (last > first && m[base + last - 1] === 0) last--;
    if (last > first) {
      lo = Math.min(lo, first);
      hi = Math.max(hi, last);
    }
  }
  if (hi <= lo) return { m, lo: 0, hi: inSize };
  const out = new Float64Array(outSize * (hi - lo));
  for (let o = 0; o < outSize; o++)
    out.set(m.subarray(o * inSize + lo, o * inSize + hi), o * (hi - lo));
  return { m: out, lo, hi };
}

/** Rows [y0, y1) and columns [x0, x1) of H×W×3 uint8 -> [3, y1 - y0, x1 - x0] float32, 0..255. */
function toPlanes(img: Uint8Image, y0: number, y1: number, x0: number, x1: number): Float32Array {
  const { width: w, data } = img;
  const ww = x1 - x0;
  const plane = (y1 - y0) * ww;
  const out = new Float32Array(3 * plane);
  for (let y = y0; y < y1; y++) {
    let src = 3 * (y * w + x0);
    let dst = (y - y0) * ww;
    for (let x = x0; x < x1; x++, src += 3, dst++) {
      out[dst] = data[src]!;
      out[plane + dst] = data[src + 1]!;
      out[2 * plane + dst] = data[src + 2]!;
    }
  }
  return out;
}
