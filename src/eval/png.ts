// RGB pictures for eval figures: a plain [H, W, 3] byte image, PNG files (pngjs), grids of images,
// and the un-normalised view of a model input.
import { readFileSync, writeFileSync } from "node:fs";
import { PNG } from "pngjs";
import { ShapeError } from "../core/index.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/image.js";

/** 8-bit RGB pixels, row-major [height, width, 3]. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export type Rgb = readonly [number, number, number];

export interface GridOptions {
  /** Pixels between cells and around the grid. */
  readonly gapPx?: number;
  readonly background?: Rgb;
}

/** ImageNet normalisation (dinov2/data/transforms.py), undone by `imageFromChw`. */

/** Writes 8-bit RGB pixels [h, w, 3] as a PNG file. */
export function writePng(path: string, rgb: Uint8Array, width: number, height: number): void {
  writeFileSync(path, encodePng({ width, height, data: rgb }));
}

/** PNG bytes of an RGB image. */
export function encodePng(img: RgbImage): Buffer {
  const { width, height, data } = img;
  if (data.length !== width * height * 3) {
    throw new ShapeError(
      "encodePng",
      `got ${data.length} bytes, expected ${width}×${height}×3 = ${width * height * 3}`,
    );
  }
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[4 * i] = data[3 * i]!;
    png.data[4 * i + 1] = data[3 * i + 1]!;
    png.data[4 * i + 2] = data[3 * i + 2]!;
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** Reads a PNG file as RGB (alpha dropped). */
export function readPng(path: string): RgbImage {
  const png = PNG.sync.read(readFileSync(path));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    data.set(png.data.subarray(4 * i, 4 * i + 3), 3 * i);
  }
  return { width: png.width, height: png.height, data };
}

/** A blank image filled with one colour. */
export function blankImage(width: number, height: number, fill: Rgb = [255, 255, 255]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(fill, 3 * i);
  return { width, height, data };
}

/**
 * Rows of images laid out as a grid; each column is as wide as its widest image, each row as tall
 * as its tallest, and smaller images are centred in their cell.
 * @example imageGrid(images.map((im, i) => [im, pcas[i]])) // input | PCA, one row per image
 */
export function imageGrid(
  rows: readonly (readonly RgbImage[])[],
  opts: GridOptions = {},
): RgbImage {
  const gap = opts.gapPx ?? 4;
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const colW = Array.from({ length: cols }, (_, c) =>
    Math.max(0, ...rows.map((r) => r[c]?.width ?? 0)),
  );
  const rowH = rows.map((r) => Math.max(0, ...r.map((im) => im.height)));
  const width = colW.reduce((a, w) => a + w + gap, gap);
  const height = rowH.reduce((a, h) => a + h + gap, gap);
  const out = blankImage(width, height, opts.background ?? [255, 255, 255]);
  let y = gap;
  rows.forEach((row, r) => {
    let x = gap;
    row.forEach((im, c) => {
      paste(out, im, x + ((colW[c]! - im.width) >> 1), y + ((rowH[r]! - im.height) >> 1));
      x += colW[c]! + gap;
    });
    y += rowH[r]! + gap;
  });
  return out;
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
