// Gaussian blur on float CHW images, as torchvision F.gaussian_blur on tensors: a normalised
// float32 kernel on linspace(-(k-1)/2, (k-1)/2, k), reflect padding, depthwise convolution.
import { applySeparable } from "../core/resample.js";
import type { FloatImage } from "./image.js";

/** _get_gaussian_kernel1d: exp(-x² / 2σ²) on the integer offsets, normalised to sum 1 (float32). */
export function gaussianKernel1d(kernelSize: number, sigma: number): Float32Array {
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0 || !(sigma > 0)) {
    throw new RangeError(
      `gaussianKernel1d: kernel size must be a positive odd integer and sigma > 0; ` +
        `got kernel ${kernelSize}, sigma ${sigma}`,
    );
  }
  const half = (kernelSize - 1) / 2;
  const k = new Float32Array(kernelSize);
  let sum = 0;
  for (let i = 0; i < kernelSize; i++) {
    const z = Math.fround((i - half) / Math.fround(sigma));
    k[i] = Math.exp(Math.fround(-0.5 * Math.fround(z * z)));
    sum = Math.fround(sum + k[i]!);
  }
  for (let i = 0; i < kernelSize; i++) k[i] = k[i]! / sum;
  return k;
}

/**
 * gaussian_blur(img, [k, k], [σ, σ]): the 2-D kernel is the outer product of two 1-D kernels, so
 * it is applied separably, each pass a banded matrix with the reflect padding folded in.
 */
export function gaussianBlur(img: FloatImage, kernelSize: number, sigma: number): FloatImage {
  const k = gaussianKernel1d(kernelSize, sigma);
  const { channels: C, height: H, width: W, data } = img;
  const rows = H === W ? blurMatrix(k, W) : blurMatrix(k, H);
  const cols = H === W ? rows : blurMatrix(k, W);
  return { ...img, data: applySeparable(data, C, H, W, rows, cols) };
}

/** The [n, n] matrix of a 1-D convolution with "reflect" padding (edge sample not repeated). */
function blurMatrix(k: Float32Array, n: number): Float64Array {
  const half = (k.length - 1) / 2;
  const period = 2 * (n - 1);
  const m = new Float64Array(n * n);
  for (let x = 0; x < n; x++) {
    for (let t = 0; t < k.length; t++) {
      let j = 0;
      if (n > 1) {
        j = (((x + t - half) % period) + period) % period;
        if (j >= n) j = period - j;
      }
      m[x * n + j]! += k[t]!;
    }
  }
  return m;
}
