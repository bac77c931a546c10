// Image file decoding with sharp to 8-bit sRGB H×W×3, like PIL's Image.open(p).convert("RGB")
// (alpha dropped, grayscale/CMYK converted, EXIF orientation not applied).
import sharp from "sharp";
import type { Uint8Image } from "./image.js";

/** File extensions the folder scan treats as images (lowercase, with the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".jpg",
  ".jpeg",
  ".png",
  ".webp",
  ".gif",
  ".tif",
  ".tiff",
  ".avif",
];

/** Decodes an image file (or bytes) to RGB uint8; rejects with sharp's reason when it cannot. */
export async function decodeImage(source: string | Uint8Array): Promise<Uint8Image> {
  const input = typeof source === "string" ? source : Buffer.from(source);
  const { data, info } = await sharp(input)
    .removeAlpha()
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels !== 3 || data.length !== width * height * 3) {
    throw new Error(`decoded to ${channels} channels, ${data.length} bytes; expected RGB`);
  }
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    channels: 3,
    height,
    width,
  };
}
