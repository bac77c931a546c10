// A procedurally drawn, labeled image dataset (no downloads): 10 classes of shapes and textures
// at random positions, scales, rotations and colours over noisy gradients; pure in (seed, index).
// Two layouts: "object", one large object per image, object-centric like ImageNet's photos (the
// classification default), and "scene", one to four smaller objects (the segmentation set).
import { createRng, type Rng } from "../rng.js";
import type { ImageDataset, ImageRecord } from "./dataset.js";

export interface SyntheticSpec {
  readonly kind: "synthetic";
  readonly seed: number;
  readonly length: number;
  /** Side of the square images in pixels. */
  readonly size: number;
  /** How many of the classes to use, 2..10 (default 10). */
  readonly numClasses?: number;
  /** Default "object". */
  readonly layout?: SyntheticLayout;
}

/**
 * "object": one object whose radius is 30–45% of the side, so crops of an image mostly show part
 * of it (two views then share the object, not only the background), with hues in a band of 0.2,
 * the range the colour-jitter augmentation spans (hue ±0.1): what tells two images of a class
 * apart is then within what the augmentations teach the model to ignore, as self-supervised
 * learning assumes of real photos. With hues anywhere on the circle, colour is the easiest thing
 * to cluster views by and the demo learns it instead of shape (measurements in
 * docs/demo-recipe.md). "scene": one to four objects of 12–36%, any hue (the segmentation set).
 */
export type SyntheticLayout = "object" | "scene";

/** Inside-test in the object's frame (u, v ∈ [-1, 1] covers the object). */
type ShapeFn = (u: number, v: number) => boolean;

const frac = (x: number): number => x - Math.floor(x);
const TRI_NORMALS = [0, 1, 2].map((k) => [
  Math.cos(Math.PI / 2 + (2 * Math.PI * k) / 3),
  Math.sin(Math.PI / 2 + (2 * Math.PI * k) / 3),
]);

/** The classes: silhouettes differ in outline, textures in their inner pattern. */
export const SYNTHETIC_CLASSES: readonly { readonly name: string; readonly inside: ShapeFn }[] = [
  { name: "disc", inside: (u, v) => u * u + v * v < 1 },
  { name: "square", inside: (u, v) => Math.max(Math.abs(u), Math.abs(v)) < 0.85 },
  {
    name: "triangle",
    inside: (u, v) => TRI_NORMALS.every(([a, b]) => a! * u + b! * v < 0.5),
  },
  { name: "ring", inside: (u, v) => Math.abs(Math.hypot(u, v) - 0.78) < 0.22 },
  {
    name: "cross",
    inside: (u, v) =>
      (Math.abs(u) < 0.28 && Math.abs(v) < 1) || (Math.abs(v) < 0.28 && Math.abs(u) < 1),
  },
  {
    name: "star",
    inside: (u, v) =>
      Math.hypot(u, v) < 0.4 + 0.6 * ((1 + Math.cos(5 * Math.atan2(v, u))) / 2) ** 2,
  },
  {
    name: "stripes",
    inside: (u, v) => Math.abs(v) < 0.9 && Math.abs(u) < 0.9 && frac(u * 2.5) < 0.5,
  },
  {
    name: "checker",
    inside: (u, v) =>
      Math.abs(v) < 0.9 &&
      Math.abs(u) < 0.9 &&
      (Math.floor(u * 2.5) + Math.floor(v * 2.5)) % 2 === 0,
  },
  {
    name: "target",
    inside: (u, v) => Math.hypot(u, v) < 1 && Math.floor(Math.hypot(u, v) * 3.5) % 2 === 0,
  },
  {
    name: "dots",
    inside: (u, v) =>
      Math.abs(u) < 1 &&
      Math.abs(v) < 1 &&
      Math.hypot(frac(u * 2 + 0.5) - 0.5, frac(v * 2 + 0.5) - 0.5) < 0.3,
  },
];

/** The dataset: label = index mod numClasses; every pixel follows from (seed, index). */
export function createSyntheticDataset(spec: SyntheticSpec): ImageDataset {
  const numClasses = spec.numClasses ?? SYNTHETIC_CLASSES.length;
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > SYNTHETIC_CLASSES.length) {
    throw new RangeError(`synthetic dataset: numClasses must be 2..10; got ${numClasses}`);
  }
  if (!Number.isInteger(spec.size) || spec.size < 8) {
    throw new RangeError(`synthetic dataset: size must be an integer ≥ 8; got ${spec.size}`);
  }
  const root = createRng(spec.seed).split("synthetic");
  return {
    length: spec.length,
    classNames: SYNTHETIC_CLASSES.slice(0, numClasses).map((c) => c.name),
    skipped: [],
    get: async (index) =>
      renderSynthetic(root.split(index), index % numClasses, spec.size, spec.layout ?? "object"),
  };
}

/** Draws one image of class `label` from its own stream. */
export function renderSynthetic(
  rng: Rng,
  label: number,
  size: number,
  layout: SyntheticLayout = "object",
): ImageRecord {
  return renderSyntheticWithMask(rng, label, size, layout).image;
}

/** An image and its per-pixel ground truth: 0 background, label + 1 where the object covers ≥ ½. */
export interface SyntheticSegmentation {
  readonly image: ImageRecord;
  /** [size × size] class indices (row-major). */
  readonly mask: Uint8Array;
}

/**
 * `renderSynthetic`'s image (identical pixels: the mask consumes no random draws) with its mask.
 * Later shapes paint over earlier ones, and the mask follows the same order.
 */
export function renderSyntheticWithMask(
  rng: Rng,
  label: number,
  size: number,
  layout: SyntheticLayout = "scene",
): SyntheticSegmentation {
  const cls = SYNTHETIC_CLASSES[label];
  if (!cls) throw new RangeError(`synthetic dataset: label ${label} out of range`);
  const img = new Float32Array(size * size * 3);
  // Light objects on a dark background or the reverse, so every object stands out.
  const [bgValue, objValue] = rng.bernoulli(0.5)
    ? [
        [0.05, 0.4],
        [0.6, 1],
      ]
    : [
        [0.6, 0.95],
        [0.1, 0.45],
      ];
  const mask = new Uint8Array(size * size);
  const hue = layout === "object" ? bandHue : (u: number) => u;
  paintBackground(img, size, rng, bgValue as [number, number], hue);
  const count = layout === "object" ? 1 : rng.int(1, 4);
  const objColour = hsv(
    hue(rng.uniform()),
    rng.uniform(0.5, 1),
    rng.uniform(objValue![0], objValue![1]),
  );
  for (let k = 0; k < count; k++) {
    const scale =
      layout === "object"
        ? rng.uniform(0.3, 0.45)
        : count === 1
          ? rng.uniform(0.18, 0.36)
          : rng.uniform(0.12, 0.24);
    const radius = size * scale;
    const cx = rng.uniform(radius * 0.6, size - radius * 0.6);
    const cy = rng.uniform(radius * 0.6, size - radius * 0.6);
    const angle = rng.uniform(0, 2 * Math.PI);
    const jitter = objColour.map((c) => clamp01(c + rng.normal(0, 0.06)));
    paintShape(img, size, cls.inside, { cx, cy, radius, angle, colour: jitter }, mask, label + 1);
  }
  const data = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) {
    // Sensor-like noise, uniform with σ ≈ 0.026 (one draw per value keeps rendering cheap).
    data[i] = Math.round(255 * clamp01(img[i]! + (rng.nextU32() / 2 ** 32 - 0.5) * 0.09));
  }
  return { image: { data, channels: 3, height: size, width: size, label }, mask };
}

/** A desaturated two-colour linear gradient at a random angle. */
function paintBackground(
  img: Float32Array,
  size: number,
  rng: Rng,
  value: [number, number],
  hue: (u: number) => number,
): void {
  const a = hsv(hue(rng.uniform()), rng.uniform(0, 0.35), rng.uniform(value[0], value[1]));
  const b = hsv(hue(rng.uniform()), rng.uniform(0, 0.35), rng.uniform(value[0], value[1]));
  const th = rng.uniform(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(th) / size, Math.sin(th) / size];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = clamp01(0.5 + (x - size / 2) * dx + (y - size / 2) * dy);
      for (let c = 0; c < 3; c++) img[(y * size + x) * 3 + c] = a[c]! * (1 - t) + b[c]! * t;
    }
  }
}

interface Placement {
  readonly cx: number;
  readonly cy: number;
  readonly radius: number;
  readonly angle: number;
  readonly colour: readonly number[];
}

/** Paints a shape with 2×2 supersampled coverage over its bounding box; marks ≥ ½ cover in `mask`. */
function paintShape(
  img: Float32Array,
  size: number,
  inside: ShapeFn,
  p: Placement,
  mask: Uint8Array,
  maskValue: number,
): void {
  const cos = Math.cos(p.angle) / p.radius;
  const sin = Math.sin(p.angle) / p.radius;
  const reach = p.radius * 1.5;
  const x0 = Math.max(0, Math.floor(p.cx - reach));
  const x1 = Math.min(size, Math.ceil(p.cx + reach));
  const y0 = Math.max(0, Math.floor(p.cy - reach));
  const y1 = Math.min(size, Math.ceil(p.cy + reach));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      let cover = 0;
      for (const [ox, oy] of SUBSAMPLES) {
        const dx = x + ox! - p.cx;
        const dy = y + oy! - p.cy;
        if (inside(dx * cos + dy * sin, -dx * sin + dy * cos)) cover += 0.25;
      }
      if (cover === 0) continue;
      if (cover >= 0.5) mask[y * size + x] = maskValue;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) img[o + c] = img[o + c]! * (1 - cover) + p.colour[c]! * cover;
    }
  }
}

const SUBSAMPLES = [
  [0.25, 0.25],
  [0.75, 0.25],
  [0.25, 0.75],
  [0.75, 0.75],
];

/** The object layout's hues: 0.45–0.65 (cyan to blue) from a uniform draw u ∈ [0, 1). */
function bandHue(u: number): number {
  return 0.45 + 0.2 * u;
}

function hsv(h: number, s: number, v: number): number[] {
  const f = (n: number): number => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}
