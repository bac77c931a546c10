// RgbImage (src/eval/rgb-image.ts, what pca.ts and patch-matching.ts draw into) onto a canvas.
import type { RgbImage } from "../eval/rgb-image.js";

/** A new canvas showing `img` at its own size, with `className` for styling and tests. */
export function rgbCanvas(img: RgbImage, className: string): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.className = className;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas");
  const rgba = new ImageData(img.width, img.height);
  for (let i = 0, j = 0; j < img.data.length; i += 4, j += 3) {
    rgba.data[i] = img.data[j]!;
    rgba.data[i + 1] = img.data[j + 1]!;
    rgba.data[i + 2] = img.data[j + 2]!;
    rgba.data[i + 3] = 255;
  }
  ctx.putImageData(rgba, 0, 0);
  return canvas;
}
