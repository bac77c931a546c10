// Colour transforms on float CHW RGB images, as torchvision.transforms.functional on tensors
// (_functional_tensor.py): brightness, contrast, saturation, hue, grayscale, solarize.
import type { FloatImage, Uint8Image } from "./image.js";

/** rgb_to_grayscale: L = 0.2989 R + 0.587 G + 0.114 B, repeated on `outChannels` (1 or 3). */
export function rgbToGrayscale(img: FloatImage, outChannels: 1 | 3 = 3): FloatImage {
  const gray = luminance(img);
  const plane = gray.length;
  const out = new Float32Array(outChannels * plane);
  for (let c = 0; c < outChannels; c++) out.set(gray, c * plane);
  return { data: out, channels: outChannels, height: img.height, width: img.width };
}

/** adjust_brightness: blend with black, clamped to [0, 1]. */
export function adjustBrightness(img: FloatImage, factor: number): FloatImage {
  const d = img.data;
  const out = new Float32Array(d.length);
  const f = Math.fround(factor);
  for (let i = 0; i < out.length; i++) out[i] = clamp01(Math.fround(f * d[i]!));
  return { ...img, data: out };
}

/** adjust_contrast: blend with the mean of the grayscale image (one scalar), clamped. */
export function adjustContrast(img: FloatImage, factor: number): FloatImage {
  const gray = luminance(img);
  let sum = 0;
  for (let i = 0; i < gray.length; i++) sum += gray[i]!;
  return blend(img, Math.fround(sum / gray.length), factor);
}

/** adjust_saturation: blend with the per-pixel grayscale image, clamped. */
export function adjustSaturation(img: FloatImage, factor: number): FloatImage {
  const gray = luminance(img);
  return blend(img, gray, factor);
}

/** adjust_hue: rotate the hue by `factor` ∈ [-0.5, 0.5] turns through torchvision's HSV. */
export function adjustHue(img: FloatImage, factor: number): FloatImage {
  if (factor < -0.5 || factor > 0.5) {
    throw new RangeError(`adjustHue: factor must be in [-0.5, 0.5]; got ${factor}`);
  }
  checkRgb(img, "adjustHue");
  const plane = img.height * img.width;
  const d = img.data;
  const out = new Float32Array(d.length);
  const fr = Math.fround;
  for (let p = 0; p < plane; p++) {
    const r = d[p]!;
    const g = d[plane + p]!;
    const b = d[2 * plane + p]!;
    // _rgb2hsv
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const eq = maxc === minc;
    const cr = fr(maxc - minc);
    const s = eq ? 0 : fr(cr / maxc);
    const div = eq ? 1 : cr;
    let h: number;
    if (maxc === r) h = fr((maxc - b) / div) - fr((maxc - g) / div);
    else if (maxc === g) h = 2 + fr((maxc - r) / div) - fr((maxc - b) / div);
    else h = 4 + fr((maxc - g) / div) - fr((maxc - r) / div);
    h = fr(fr(fr(h) / 6) + 1) % 1; // torch.fmod: the argument is positive here
    // (h + factor) % 1 with Python's sign rule, in float32.
    const hs = fr(h + factor);
    h = fr(hs - Math.floor(hs));
    // _hsv2rgb
    const h6 = fr(h * 6);
    const sector = Math.floor(h6);
    const f = h6 - sector;
    const pv = clamp01(maxc * (1 - s));
    const qv = clamp01(maxc * (1 - s * f));
    const tv = clamp01(maxc * (1 - s * (1 - f)));
    let ro = maxc;
    let go = pv;
    let bo = qv;
    switch (sector % 6) {
      case 0:
        go = tv;
        bo = pv;
        break;
      case 1:
        ro = qv;
        go = maxc;
        bo = pv;
        break;
      case 2:
        ro = pv;
        go = maxc;
        bo = tv;
        break;
      case 3:
        ro = pv;
        go = qv;
        bo = maxc;
        break;
      case 4:
        ro = tv;
        go = pv;
        bo = maxc;
        break;
    }
    out[p] = ro;
    out[plane + p] = go;
    out[2 * plane + p] = bo;
  }
  return { ...img, data: out };
}

/** solarize on a float image: values ≥ threshold become 1 - x. */
export function solarize(img: FloatImage, threshold: number): FloatImage {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const x = img.data[i]!;
    out[i] = x >= threshold ? 1 - x : x;
  }
  return { ...img, data: out };
}

/** solarize on uint8 pixels (PIL ImageOps.solarize and torchvision on uint8): x ≥ t → 255 - x. */
export function solarizeUint8(img: Uint8Image, threshold: number): Uint8Image {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const x = img.data[i]!;
    out[i] = x >= threshold ? 255 - x : x;
  }
  return { ...img, data: out };
}

function checkRgb(img: FloatImage, op: string): void {
  if (img.channels !== 3) {
    throw new RangeError(`${op}: expects an RGB image; got ${img.channels} channels, expected 3`);
  }
}

/** The float32 luminance plane of an RGB image. */
function luminance(img: FloatImage): Float32Array {
  checkRgb(img, "rgbToGrayscale");
  const plane = img.height * img.width;
  const d = img.data;
  const out = new Float32Array(plane);
  const wr = Math.fround(0.2989);
  const wg = Math.fround(0.587);
  const wb = Math.fround(0.114);
  for (let p = 0; p < plane; p++) {
    out[p] = wr * d[p]! + wg * d[plane + p]! + wb * d[2 * plane + p]!;
  }
  return out;
}

/** _blend: (f · img + (1 - f) · other).clamp(0, 1); `other` is one value or one plane. */
function blend(img: FloatImage, other: Float32Array | number, factor: number): FloatImage {
  const plane = img.height * img.width;
  const out = new Float32Array(img.data.length);
  const f = Math.fround(factor);
  const g = Math.fround(1 - factor);
  const d = img.data;
  for (let c = 0; c < img.channels; c++) {
    const base = c * plane;
    if (typeof other === "number") {
      const go = Math.fround(g * other);
      for (let p = 0; p < plane; p++) out[base + p] = clamp01(Math.fround(f * d[base + p]!) + go);
    } else {
      for (let p = 0; p < plane; p++) {
        out[base + p] = clamp01(Math.fround(f * d[base + p]!) + Math.fround(g * other[p]!));
      }
    }
  }
  return { ...img, data: out };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}
