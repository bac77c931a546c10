// RandomResizedCrop: torchvision's box sampling (10 tries of area scale and log-uniform aspect
// ratio, then a centre-crop fallback) followed by a bicubic antialiased resized crop.
import { resizedCrop } from "./geometry.js";
import type { FloatImage } from "./image.js";
import { roundHalfEven } from "./python-numerics.js";
import type { Rng } from "./rng.js";

export interface CropBox {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

export interface RandomResizedCropOptions {
  /** Output side in pixels (square output, as DINOv2 passes an int). */
  readonly size: number;
  /** Range of the crop area as a fraction of the image area. */
  readonly scale: readonly [number, number];
  /** Range of the aspect ratio w/h (torchvision default [3/4, 4/3]). */
  readonly ratio?: readonly [number, number];
}

export const DEFAULT_CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** RandomResizedCrop.get_params: the crop box for an image of height × width. */
export function sampleCropBox(
  rng: Rng,
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number] = DEFAULT_CROP_RATIO,
): CropBox {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback: the largest centred crop whose ratio lies within `ratio`.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) {
    h = roundHalfEven(w / Math.min(...ratio));
  } else if (inRatio > Math.max(...ratio)) {
    w = roundHalfEven(h * Math.max(...ratio));
  }
  return {
    top: Math.floor((height - h) / 2),
    left: Math.floor((width - w) / 2),
    height: h,
    width: w,
  };
}

/** Samples a box and resizes it to size × size (bicubic, antialias=True, no clamping). */
export function randomResizedCrop(
  img: FloatImage,
  rng: Rng,
  opts: RandomResizedCropOptions,
): FloatImage {
  const box = sampleCropBox(rng, img.height, img.width, opts.scale, opts.ratio);
  return resizedCrop(img, box.top, box.left, box.height, box.width, opts.size, opts.size);
}
