// Drawing on RgbImage for plots and match pictures: rectangles, anti-aliased thick polylines
// (coverage by distance to the segment), discs and 5×7 bitmap text.
import { GLYPH_H, GLYPH_W, glyph } from "./font5x7.js";
import type { Rgb, RgbImage } from "./rgb-image.js";

/** A clip rectangle in pixels: [x0, x1) × [y0, y1). */
export interface Rect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** Blends `color` into pixel (x, y) with opacity `alpha` in [0, 1]; ignores pixels outside. */
export function blendPixel(img: RgbImage, x: number, y: number, color: Rgb, alpha = 1): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height || alpha <= 0) return;
  const i = (y * img.width + x) * 3;
  const a = Math.min(1, alpha);
  for (let c = 0; c < 3; c++) {
    img.data[i + c] = Math.round(img.data[i + c]! * (1 - a) + color[c]! * a);
  }
}

export function fillRect(
  img: RgbImage,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Rgb,
): void {
  for (let yy = Math.max(0, y); yy < Math.min(img.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(img.width, x + w); xx++)
      blendPixel(img, xx, yy, color);
  }
}

/** A one-pixel rectangle outline. */
export function strokeRect(
  img: RgbImage,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Rgb,
): void {
  fillRect(img, x, y, w, 1, color);
  fillRect(img, x, y + h - 1, w, 1, color);
  fillRect(img, x, y, 1, h, color);
  fillRect(img, x + w - 1, y, 1, h, color);
}

/**
 * Strokes the polyline through `points` ([x0, y0, x1, y1, ...], pixel units) with an anti-aliased
 * line `widthPx` wide. Coverage is the max over segments, so joints are not drawn twice.
 */
export function strokePolyline(
  img: RgbImage,
  points: readonly number[],
  color: Rgb,
  widthPx: number,
  clip: Rect = { x0: 0, y0: 0, x1: img.width, y1: img.height },
): void {
  const r = widthPx / 2;
  const [minX, minY, maxX, maxY] = bounds(points);
  const bx0 = Math.max(clip.x0, 0, Math.floor(minX - r - 1));
  const by0 = Math.max(clip.y0, 0, Math.floor(minY - r - 1));
  const bw = Math.min(clip.x1, img.width, Math.ceil(maxX + r + 1)) - bx0;
  const bh = Math.min(clip.y1, img.height, Math.ceil(maxY + r + 1)) - by0;
  if (bw <= 0 || bh <= 0) return;
  const cover = new Float32Array(bw * bh);
  for (let s = 0; s + 3 < points.length; s += 2) {
    const [ax, ay, bx, by] = [points[s]!, points[s + 1]!, points[s + 2]!, points[s + 3]!];
    const x0 = Math.max(bx0, Math.floor(Math.min(ax, bx) - r - 1));
    const x1 = Math.min(bx0 + bw, Math.ceil(Math.max(ax, bx) + r + 1));
    const y0 = Math.max(by0, Math.floor(Math.min(ay, by) - r - 1));
    const y1 = Math.min(by0 + bh, Math.ceil(Math.max(ay, by) + r + 1));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const c = r + 0.5 - distToSegment(x + 0.5, y + 0.5, ax, ay, bx, by);
        const k = (y - by0) * bw + (x - bx0);
        if (c > cover[k]!) cover[k] = Math.min(1, c);
      }
    }
  }
  cover.forEach((c, k) => {
    if (c > 0) blendPixel(img, bx0 + (k % bw), by0 + Math.floor(k / bw), color, c);
  });
}

/** An anti-aliased filled disc centred at (cx, cy). */
export function fillDisc(img: RgbImage, cx: number, cy: number, radius: number, color: Rgb): void {
  for (let y = Math.floor(cy - radius - 1); y <= Math.ceil(cy + radius + 1); y++) {
    for (let x = Math.floor(cx - radius - 1); x <= Math.ceil(cx + radius + 1); x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      blendPixel(img, x, y, color, Math.min(1, radius + 0.5 - d));
    }
  }
}

/** Width in pixels of `text` in the 5×7 font at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_W + 1) - 1) * scale;
}

export function textHeight(scale = 1): number {
  return GLYPH_H * scale;
}

/** Draws `text` with its top-left corner at (x, y), each font pixel a scale × scale square. */
export function drawText(
  img: RgbImage,
  text: string,
  x: number,
  y: number,
  color: Rgb,
  scale = 1,
): void {
  [...text].forEach((ch, n) => {
    const rows = glyph(ch);
    const gx = x + n * (GLYPH_W + 1) * scale;
    rows.forEach((bits, row) => {
      for (let col = 0; col < GLYPH_W; col++) {
        if (bits & (1 << (GLYPH_W - 1 - col))) {
          fillRect(img, gx + col * scale, y + row * scale, scale, scale, color);
        }
      }
    });
  });
}

function distToSegment(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

function bounds(points: readonly number[]): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 1 < points.length; i += 2) {
    b[0] = Math.min(b[0], points[i]!);
    b[1] = Math.min(b[1], points[i + 1]!);
    b[2] = Math.max(b[2], points[i]!);
    b[3] = Math.max(b[3], points[i + 1]!);
  }
  return b;
}
