// The browser's image decoding for the page: a File/Blob -> interleaved RGB uint8, the input the
// shared eval transform (src/inference/preprocess.ts) takes. createImageBitmap with no colour-space
// conversion and no premultiplication, drawn onto a canvas and read back as RGBA; alpha is dropped
// as PIL's convert("RGB") and our sharp decoding drop it. Lossless formats (PNG) of opaque images
// give the same bytes as sharp; JPEG decoders may differ by a level here and there.
import type { Uint8Image } from "../data/image.js";

/** Decodes `blob` to RGB bytes; rejects with the browser's reason when it cannot. */
export async function decodeToRgb(blob: Blob): Promise<Uint8Image> {
  const bitmap = await createImageBitmap(blob, {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) throw new Error("this browser has no 2D canvas to decode images with");
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      data[j] = rgba[i]!;
      data[j + 1] = rgba[i + 1]!;
      data[j + 2] = rgba[i + 2]!;
    }
    return { data, channels: 3, width, height };
  } finally {
    bitmap.close();
  }
}
