// RGB pictures for eval figures as PNG files (pngjs) and grids of images. The image type and its
// pure operations live in rgb-image.ts (bundled by the browser page) and are re-exported here.
import { readFileSync, writeFileSync } from "node:fs";
import { PNG } from "pngjs";
import { ShapeError } from "../core/index.js";
import { blankImage, paste, type Rgb, type RgbImage } from "./rgb-image.js";

export {
  blankImage,
  imageFromChw,
  paste,
  type Rgb,
  type RgbImage,
  upscaleNearest,
} from "./rgb-image.js";

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
