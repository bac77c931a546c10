// Raw PNG samples for label and depth maps: palette indices and 8/16-bit grey values exactly as
// stored. Hand-written (inflate by fflate) because sharp and pngjs expand a palette to colours, and
// the class index of a VOC mask is the palette index, not its colour.
import { readFileSync } from "node:fs";
import { unzlibSync } from "fflate";

export interface PngSamples {
  readonly width: number;
  readonly height: number;
  /** 8 or 16 (1/2/4-bit palette and grey images are widened to 8). */
  readonly bitDepth: number;
  /** "grey", "palette", or another type name (then `samples` holds the first channel). */
  readonly colorType: string;
  /** [H × W]: the first channel of every pixel (the index for palette images). */
  readonly samples: Uint8Array | Uint16Array;
}

const COLOR_TYPES: Readonly<Record<number, { name: string; channels: number }>> = {
  0: { name: "grey", channels: 1 },
  2: { name: "rgb", channels: 3 },
  3: { name: "palette", channels: 1 },
  4: { name: "grey+alpha", channels: 2 },
  6: { name: "rgba", channels: 4 },
};

/** Reads a PNG's first channel without any colour conversion; throws naming the file. */
export function readPngSamples(path: string): PngSamples {
  try {
    return decodePngSamples(readFileSync(path));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

export function decodePngSamples(bytes: Uint8Array): PngSamples {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 33 || sig.some((b, i) => bytes[i] !== b)) throw new Error("not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const [bitDepth, colorType, , , interlace] = bytes.subarray(24, 29) as unknown as number[];
  const type = COLOR_TYPES[colorType!];
  if (!type) throw new Error(`unknown PNG colour type ${colorType}`);
  if (interlace !== 0) throw new Error("interlaced PNGs are not supported; re-save without it");
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const len = view.getUint32(at);
    const name = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (name === "IDAT") idat.push(bytes.subarray(at + 8, at + 8 + len));
    if (name === "IEND") break;
    at += 12 + len;
  }
  const raw = unzlibSync(concat(idat));
  const bitsPerPixel = bitDepth! * type.channels;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  if (raw.length < height * (stride + 1)) throw new Error("truncated image data");
  const rows = unfilter(raw, height, stride, Math.max(1, bitsPerPixel / 8));
  return {
    width,
    height,
    bitDepth: bitDepth === 16 ? 16 : 8,
    colorType: type.name,
    samples: firstChannel(rows, width, height, stride, bitDepth!, type.channels),
  };
}

/** Undoes the per-row filters (None, Sub, Up, Average, Paeth) in place; returns the rows. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[row - stride + x]! : 0;
      const c = x >= bpp && y > 0 ? out[row - stride + x - bpp]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (pred === undefined) throw new Error(`bad PNG filter type ${filter} in row ${y}`);
      out[row + x] = (src[x]! + pred) & 255;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function firstChannel(
  rows: Uint8Array,
  width: number,
  height: number,
  stride: number,
  bitDepth: number,
  channels: number,
): Uint8Array | Uint16Array {
  const n = width * height;
  if (bitDepth === 16) {
    const out = new Uint16Array(n);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = y * stride + x * channels * 2;
        out[y * width + x] = (rows[at]! << 8) | rows[at + 1]!;
      }
    }
    return out;
  }
  const out = new Uint8Array(n);
  const perByte = 8 / bitDepth;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (bitDepth === 8) out[y * width + x] = rows[y * stride + x * channels]!;
      else {
        const byte = rows[y * stride + Math.floor(x / perByte)]!;
        const shift = 8 - bitDepth * ((x % perByte) + 1);
        out[y * width + x] = (byte >> shift) & ((1 << bitDepth) - 1);
      }
    }
  }
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
