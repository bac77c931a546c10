// DINOv2 multi-crop augmentation. Port of dinov2/data/augmentations.py (DataAugmentationDINO)
// and the GaussianBlur wrapper of dinov2/data/transforms.py, on float CHW images.
import { gaussianBlur } from "./blur.js";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  rgbToGrayscale,
  solarize,
} from "./color.js";
import { hflip } from "./geometry.js";
import { type FloatImage, normalize, toFloatImage, type Uint8Image } from "./image.js";
import { randomResizedCrop } from "./random-resized-crop.js";
import type { Rng } from "./rng.js";

/**
 * "released": the official code's inverted RandomApply probabilities, which trained every released
 * checkpoint (blur applied with p = 0.0 / 0.9 / 0.5 to global 1 / global 2 / locals).
 * "paper": the intended 1.0 / 0.1 / 0.5.
 */
export type BlurMode = "released" | "paper";

export interface DataAugmentationDinoOptions {
  readonly globalCropsScale: readonly [number, number];
  readonly localCropsScale: readonly [number, number];
  readonly localCropsNumber: number;
  readonly globalCropsSize: number;
  readonly localCropsSize: number;
  readonly blurMode: BlurMode;
}

/** Normalised CHW crops: 2 global [3, G, G] and `localCropsNumber` local [3, L, L]. */
export interface MultiCrops {
  readonly globalCrops: readonly Float32Array[];
  readonly localCrops: readonly Float32Array[];
}

/** Maps one RGB image (float CHW or uint8 HWC as sharp decodes it) and its own stream to crops. */
export type MultiCropTransform = (image: FloatImage | Uint8Image, rng: Rng) => MultiCrops;

export const DINO_AUGMENTATION_DEFAULTS: DataAugmentationDinoOptions = {
  globalCropsScale: [0.32, 1.0],
  localCropsScale: [0.05, 0.32],
  localCropsNumber: 8,
  globalCropsSize: 224,
  localCropsSize: 96,
  blurMode: "released",
};

/** Effective blur probabilities [global 1, global 2, local] per mode. */
export const BLUR_PROBABILITIES: Readonly<Record<BlurMode, readonly [number, number, number]>> = {
  released: [0.0, 0.9, 0.5],
  paper: [1.0, 0.1, 0.5],
};

/** Builds DataAugmentationDINO; each crop draws from its own split of the sample's stream. */
export function createDataAugmentationDino(
  options: Partial<DataAugmentationDinoOptions> = {},
): MultiCropTransform {
  const o = { ...DINO_AUGMENTATION_DEFAULTS, ...options };
  checkOptions(o);
  const [blurGlobal1, blurGlobal2, blurLocal] = BLUR_PROBABILITIES[o.blurMode];
  const globalCrop = { size: o.globalCropsSize, scale: o.globalCropsScale } as const;
  const localCrop = { size: o.localCropsSize, scale: o.localCropsScale } as const;
  return (image, rng) => {
    const img = toRgb(image);
    const g1 = rng.split("global1");
    const g2 = rng.split("global2");
    let crop1 = geometric(img, g1, globalCrop);
    crop1 = maybeBlur(colorJitter(crop1, g1), g1, blurGlobal1);
    let crop2 = geometric(img, g2, globalCrop);
    crop2 = maybeBlur(colorJitter(crop2, g2), g2, blurGlobal2);
    // RandomSolarize(threshold=128) acts on PIL uint8 pixels: x ≥ 128 ⇔ x / 255 ≥ 128 / 255.
    if (g2.bernoulli(0.2)) crop2 = solarize(crop2, 128 / 255);
    const localCrops: Float32Array[] = [];
    for (let i = 0; i < o.localCropsNumber; i++) {
      const r = rng.split("local").split(i);
      const crop = maybeBlur(colorJitter(geometric(img, r, localCrop), r), r, blurLocal);
      localCrops.push(normalize(crop).data);
    }
    return { globalCrops: [normalize(crop1).data, normalize(crop2).data], localCrops };
  };
}

function checkOptions(o: DataAugmentationDinoOptions): void {
  const bad = (what: string, got: unknown): never => {
    throw new RangeError(`DataAugmentationDino: ${what}; got ${JSON.stringify(got)}`);
  };
  for (const size of [o.globalCropsSize, o.localCropsSize]) {
    if (!Number.isInteger(size) || size < 1) bad("crop sizes must be positive integers", size);
  }
  if (!Number.isInteger(o.localCropsNumber) || o.localCropsNumber < 0) {
    bad("localCropsNumber must be a non-negative integer", o.localCropsNumber);
  }
  for (const [lo, hi] of [o.globalCropsScale, o.localCropsScale]) {
    if (!(lo > 0 && lo <= hi)) bad("crop scales must satisfy 0 < min <= max", [lo, hi]);
  }
  if (!(o.blurMode in BLUR_PROBABILITIES))
    bad('blurMode must be "released" or "paper"', o.blurMode);
}

/** Float RGB CHW from either input layout; grayscale is repeated and alpha dropped (PIL "RGB"). */
function toRgb(image: FloatImage | Uint8Image): FloatImage {
  const img = image.data instanceof Uint8Array ? toFloatImage(image as Uint8Image) : image;
  const { channels: C, height: H, width: W, data } = img as FloatImage;
  if (C === 3) return img as FloatImage;
  if (C !== 1 && C !== 4) {
    throw new RangeError(`DataAugmentationDino: expects 1, 3 or 4 channels; got ${C}`);
  }
  const plane = H * W;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++)
    out.set(data.subarray((C === 1 ? 0 : c) * plane, (C === 1 ? 1 : c + 1) * plane), c * plane);
  return { data: out, channels: 3, height: H, width: W };
}

/** RandomResizedCrop(bicubic) then RandomHorizontalFlip(0.5). */
function geometric(
  img: FloatImage,
  rng: Rng,
  crop: { readonly size: number; readonly scale: readonly [number, number] },
): FloatImage {
  const out = clamp01(randomResizedCrop(img, rng, crop));
  return rng.bernoulli(0.5) ? hflip(out) : out;
}

/** RandomApply([ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8) then RandomGrayscale(0.2). */
function colorJitter(img: FloatImage, rng: Rng): FloatImage {
  let out = img;
  if (rng.bernoulli(0.8)) {
    const order = rng.permutation(4);
    const factors = [rng.uniform(0.6, 1.4), rng.uniform(0.6, 1.4), rng.uniform(0.8, 1.2)];
    const hue = rng.uniform(-0.1, 0.1);
    for (const fn of order) {
      if (fn === 0) out = adjustBrightness(out, factors[0]!);
      else if (fn === 1) out = adjustContrast(out, factors[1]!);
      else if (fn === 2) out = adjustSaturation(out, factors[2]!);
      else out = adjustHue(out, hue);
    }
  }
  return rng.bernoulli(0.2) ? rgbToGrayscale(out, 3) : out;
}

/** GaussianBlur(kernel 9, sigma ~ U[0.1, 2]) applied with probability p. */
function maybeBlur(img: FloatImage, rng: Rng, p: number): FloatImage {
  return rng.bernoulli(p) ? gaussianBlur(img, 9, rng.uniform(0.1, 2.0)) : img;
}

/** PIL stores the resized crop as uint8, so later ops see values in [0, 1]; keep that range. */
function clamp01(img: FloatImage): FloatImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.min(Math.max(d[i]!, 0), 1);
  return img;
}
