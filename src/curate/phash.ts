// The classical copy-detection descriptor: a DCT perceptual hash (pHash) of a 32×32 greyscale
// thumbnail. The 16×16 lowest DCT frequencies without the DC term give 255 bits (coefficient
// above their median); they survive resizing, mild crops, colour changes and JPEG re-encoding, and
// need no trained model. (The classic pHash keeps 8×8 = 63 bits; on the planted pools of
// synthetic-pool.ts distinct images then collide as often as crops separate, see descriptors.ts.)
// Stored as a ±1/√255 vector so that cosine = 1 − 2·hamming/255 and the same kNN and threshold
// code serves every descriptor.
import sharp from "sharp";
import type { Uint8Image } from "../data/image.js";

export const PHASH_DIM = 255;
const THUMB = 32;
const LOW = 16;

/** cos((2x+1)uπ / 2N) for u < LOW, x < THUMB. */
let basis: Float64Array | undefined;
function dctBasis(): Float64Array {
  if (basis) return basis;
  basis = new Float64Array(LOW * THUMB);
  for (let u = 0; u < LOW; u++) {
    for (let x = 0; x < THUMB; x++)
      basis[u * THUMB + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * THUMB));
  }
  return basis;
}

/** The 32×32 greyscale thumbnail (luma of sRGB, box-filtered resize) as floats in 0..255. */
export async function thumbnail(img: Uint8Image): Promise<Float64Array> {
  const raw = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .greyscale()
    .resize(THUMB, THUMB, { fit: "fill", kernel: "cubic" })
    .raw()
    .toBuffer();
  return Float64Array.from(raw);
}

/** The 255 low DCT coefficients (row-major 16×16, DC dropped) of a 32×32 thumbnail. */
export function lowDct(thumb: Float64Array): Float64Array {
  const b = dctBasis();
  // rows: tmp[y][u] = Σx img[y][x] cos_u(x); then coef[v][u] = Σy cos_v(y) tmp[y][u]
  const tmp = new Float64Array(THUMB * LOW);
  for (let y = 0; y < THUMB; y++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < THUMB; x++) s += thumb[y * THUMB + x]! * b[u * THUMB + x]!;
      tmp[y * LOW + u] = s;
    }
  }
  const out = new Float64Array(PHASH_DIM);
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      if (u === 0 && v === 0) continue;
      let s = 0;
      for (let y = 0; y < THUMB; y++) s += b[v * THUMB + y]! * tmp[y * LOW + u]!;
      out[v * LOW + u - 1] = s;
    }
  }
  return out;
}

/** The hash as a ±1/√63 vector: bit i is set when coefficient i exceeds the median. */
export function hashVector(coefs: Float64Array): Float32Array {
  const sorted = Float64Array.from(coefs).sort();
  const median = sorted[(sorted.length - 1) >> 1]!;
  const unit = 1 / Math.sqrt(PHASH_DIM);
  return Float32Array.from(coefs, (c) => (c > median ? unit : -unit));
}

/** pHash of a decoded image, as a unit vector of PHASH_DIM floats. */
export async function perceptualHash(img: Uint8Image): Promise<Float32Array> {
  return hashVector(lowDct(await thumbnail(img)));
}
