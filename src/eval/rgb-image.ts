// The RGB byte image of the eval pictures and the pure operations on it (blank, paste, nearest
// upscaling, a model input back to pixels). No Node imports: the `dinov2 serve` page bundles it with pca.ts and patch-matching.ts.
import { ShapeError } from "../core/errors.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/image.js";

/** 8-bit RGB pixels, row-major [height, width, 3]. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export type Rgb = readonly [number, number, number];

/** A blank image filled with one colour. */
export function blankImage(width: number, height: number, fill: Rgb = [255, 255, 255]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(fill, 3 * i);
  return { width, height, data };
}

/** Copies `src` into `dst` with its top-left corner at (x, y), clipped to `dst`. */
export function paste(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  for (let sy = Math.max(0, -y); sy < src.height && y + sy < dst.height; sy++) {
    const x0 = Math.max(0, -x);
    const x1 = Math.min(src.width, dst.width - x);
    if (x1 <= x0) return;
    const from = (sy * src.width + x0) * 3;
    dst.data.set(
      src.data.subarray(from, from + (x1 - x0) * 3),
      ((y + sy) * dst.width + x + x0) * 3,
    );
  }
}

/** Nearest-neighbour upscaling by an integer factor per axis. */
export function upscaleNearest(img: RgbImage, factor: number): RgbImage {
  const out = blankImage(img.width * factor, img.height * factor);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const from = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 3;
      out.data.set(img.data.subarray(from, from + 3), (y * out.width + x) * 3);
    }
  }
  return out;
}

/** A model input [3, H, W] (normalised with mean/std, default ImageNet's) back to RGB bytes. */
export function imageFromChw(
  chw: Float32Array,
  height: number,
  width: number,
  norm: { readonly mean: readonly number[]; readonly std: readonly number[] } = {
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
  },
): RgbImage {
  if (chw.length !== 3 * height * width) {
    throw new ShapeError("imageFromChw", `got ${chw.length} values, expected 3×${height}×${width}`);
  }
  const data = new Uint8Array(height * width * 3);
  const plane = height * width;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = chw[c * plane + i]! * norm.std[c]! + norm.mean[c]!;
      data[3 * i + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return { width, height, data };
}
