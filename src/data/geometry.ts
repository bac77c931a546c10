// Geometric transforms on float CHW images, as torchvision.transforms.functional on tensors:
// crop (zero fill outside), bicubic resize, resized_crop, horizontal flip.
import { applySeparable, bicubicWeights } from "../core/resample.js";
import type { FloatImage } from "./image.js";

export interface ResizeOptions {
  /** torchvision's `antialias` (default true, as F.resize on tensors since torchvision 0.17). */
  readonly antialias?: boolean;
}

/** crop(img, top, left, height, width); regions outside the image are zero (torchvision pads). */
export function crop(
  img: FloatImage,
  top: number,
  left: number,
  height: number,
  width: number,
): FloatImage {
  checkBox(top, left, height, width);
  const { channels: C, height: H, width: W, data } = img;
  const out = new Float32Array(C * height * width);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, W - left);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < height; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= H || x1 <= x0) continue;
      const src = (c * H + sy) * W + left;
      out.set(data.subarray(src + x0, src + x1), (c * height + y) * width + x0);
    }
  }
  return { data: out, channels: C, height, width };
}

/**
 * resize to [outHeight, outWidth] with bicubic interpolation (align_corners=False). Float output is
 * not clamped: bicubic overshoots slightly outside [0, 1], exactly as torchvision on float tensors.
 */
export function resize(
  img: FloatImage,
  outHeight: number,
  outWidth: number,
  opts: ResizeOptions = {},
): FloatImage {
  const antialias = opts.antialias ?? true;
  const rows = bicubicWeights(img.height, outHeight, { antialias });
  const cols = bicubicWeights(img.width, outWidth, { antialias });
  const data = applySeparable(img.data, img.channels, img.height, img.width, rows, cols);
  return { data, channels: img.channels, height: outHeight, width: outWidth };
}

/** resized_crop: crop(top, left, height, width) then bicubic resize to [outHeight, outWidth]. */
export function resizedCrop(
  img: FloatImage,
  top: number,
  left: number,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  opts: ResizeOptions = {},
): FloatImage {
  return resize(crop(img, top, left, height, width), outHeight, outWidth, opts);
}

/** hflip: mirror the last (width) axis. */
export function hflip(img: FloatImage): FloatImage {
  const { channels: C, height: H, width: W, data } = img;
  const out = new Float32Array(data.length);
  for (let row = 0; row < C * H; row++) {
    const base = row * W;
    for (let x = 0; x < W; x++) out[base + x] = data[base + W - 1 - x]!;
  }
  return { ...img, data: out };
}

function checkBox(top: number, left: number, height: number, width: number): void {
  const ok = [top, left, height, width].every(Number.isInteger) && height > 0 && width > 0;
  if (!ok) {
    throw new RangeError(
      `crop: box must be integers with positive size; got top ${top}, left ${left}, ` +
        `height ${height}, width ${width}`,
    );
  }
}
