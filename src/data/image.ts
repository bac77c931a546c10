// Float CHW images in [0, 1]: the type every transform takes, ToTensor from decoded uint8 HWC,
// and ImageNet normalisation (dinov2/data/transforms.py make_normalize_transform).

/** A C×H×W float32 image, channel-major (torchvision's tensor layout). */
export interface FloatImage {
  readonly data: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Decoded pixels as sharp returns them: interleaved H×W×C uint8. */
export interface Uint8Image {
  readonly data: Uint8Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Allocates (or wraps) a float image, checking that the data length matches the dimensions. */
export function floatImage(
  channels: number,
  height: number,
  width: number,
  data?: Float32Array,
): FloatImage {
  const n = channels * height * width;
  const arr = data ?? new Float32Array(n);
  if (arr.length !== n) {
    throw new RangeError(
      `floatImage: data has ${arr.length} elements; got [${channels},${height},${width}], expected ${n}`,
    );
  }
  return { data: arr, channels, height, width };
}

/** torchvision ToTensor: HWC uint8 → CHW float in [0, 1] (x / 255). */
export function toFloatImage(img: Uint8Image): FloatImage {
  const { channels: C, height: H, width: W, data } = img;
  if (data.length !== C * H * W) {
    throw new RangeError(
      `toFloatImage: data has ${data.length} bytes; got [${H},${W},${C}], expected ${C * H * W}`,
    );
  }
  const out = new Float32Array(C * H * W);
  const plane = H * W;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < C; c++) out[c * plane + p] = data[p * C + c]! / 255;
  }
  return { data: out, channels: C, height: H, width: W };
}

/** Normalize(mean, std) per channel: (x - mean[c]) / std[c]. Defaults to ImageNet statistics. */
export function normalize(
  img: FloatImage,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
): FloatImage {
  const { channels: C, height: H, width: W, data } = img;
  if (mean.length !== C || std.length !== C) {
    throw new RangeError(
      `normalize: got ${mean.length} means and ${std.length} stds, expected ${C} (one per channel)`,
    );
  }
  const out = new Float32Array(data.length);
  const plane = H * W;
  for (let c = 0; c < C; c++) {
    // torchvision computes in float32: (x - mean) / std with float32 mean and std tensors.
    const m = Math.fround(mean[c]!);
    const s = Math.fround(std[c]!);
    for (let p = c * plane; p < (c + 1) * plane; p++) out[p] = (data[p]! - m) / s;
  }
  return { data: out, channels: C, height: H, width: W };
}
