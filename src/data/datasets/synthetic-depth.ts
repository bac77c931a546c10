// A procedural depth dataset with exact ground truth: a pinhole camera over a checkered ground
// plane, a striped back wall, and 1–3 upright shapes standing on the ground at known depths.
// Cues a network can learn: perspective (texture density, the ground row of each object, object
// size ∝ 1/Z) and atmospheric haze that grows with depth. Pure in (seed, index).
import type { Uint8Image } from "../image.js";
import { createRng, type Rng } from "../rng.js";
import type { DepthDataset, SyntheticDenseSpec } from "./dense.js";
import { SYNTHETIC_CLASSES } from "./synthetic.js";

/** Depths lie in (0, SYNTHETIC_MAX_DEPTH] metres; use it as max_depth (NYU's value). */
export const SYNTHETIC_MAX_DEPTH = 10;

export function createSyntheticDepth(spec: Omit<SyntheticDenseSpec, "numClasses">): DepthDataset {
  if (!Number.isInteger(spec.size) || spec.size < 8) {
    throw new RangeError(`synthetic depth: size must be an integer ≥ 8; got ${spec.size}`);
  }
  const root = createRng(spec.seed).split("synthetic-depth");
  return {
    length: spec.length,
    skipped: [],
    get: async (index) => ({
      ...renderDepthScene(root.split(index), spec.size),
      name: `synthetic-depth-${spec.seed}-${index}`,
    }),
  };
}

/** One scene: RGB image and its depth map in metres (every pixel valid). */
export function renderDepthScene(
  rng: Rng,
  size: number,
): { image: Uint8Image; depth: Float32Array } {
  const f = size; // focal length in pixels (≈ 53° field of view)
  const camHeight = rng.uniform(1.2, 1.8);
  const horizon = size * rng.uniform(0.25, 0.45);
  const wallZ = rng.uniform(6, 9.5);
  const haze = hsvToRgb(rng.uniform(), 0.15, rng.uniform(0.75, 0.95));
  const groundA = hsvToRgb(rng.uniform(), rng.uniform(0.2, 0.6), rng.uniform(0.3, 0.6));
  const groundB = groundA.map((c) => c * rng.uniform(0.35, 0.7));
  const wallA = hsvToRgb(rng.uniform(), rng.uniform(0.1, 0.5), rng.uniform(0.4, 0.8));
  const wallB = wallA.map((c) => c * 0.75);
  const tile = rng.uniform(0.4, 0.8);
  const img = new Float32Array(size * size * 3);
  const depth = new Float32Array(size * size);
  const cx = size / 2;
  for (let y = 0; y < size; y++) {
    const below = y + 0.5 - horizon;
    const groundZ = below > 0 ? (f * camHeight) / below : Number.POSITIVE_INFINITY;
    const onGround = groundZ < wallZ;
    const z = onGround ? groundZ : wallZ;
    for (let x = 0; x < size; x++) {
      const worldX = ((x + 0.5 - cx) * z) / f;
      const odd = onGround
        ? (Math.floor(worldX / tile) + Math.floor(z / tile)) % 2 !== 0
        : Math.floor(worldX / 0.7) % 2 !== 0;
      const base = onGround ? (odd ? groundA : groundB) : odd ? wallA : wallB;
      put(img, depth, y * size + x, base, z, haze);
    }
  }
  const objects = Array.from({ length: rng.int(1, 4) }, () => ({
    z: rng.uniform(1.5, wallZ - 0.5),
    halfWidth: rng.uniform(0.3, 0.8),
    u: rng.uniform(0.1, 0.9),
    shape: SYNTHETIC_CLASSES[rng.int(0, SYNTHETIC_CLASSES.length)]!.inside,
    colour: hsvToRgb(rng.uniform(), rng.uniform(0.5, 1), rng.uniform(0.5, 1)),
    angle: rng.uniform(-0.4, 0.4),
  }));
  objects.sort((a, b) => b.z - a.z); // far to near: nearer objects cover farther ones
  for (const o of objects) {
    const r = (f * o.halfWidth) / o.z;
    const oy = horizon + (f * camHeight) / o.z - r; // stands on the ground at depth z
    const ox = o.u * size;
    const [cos, sin] = [Math.cos(o.angle) / r, Math.sin(o.angle) / r];
    for (let y = Math.max(0, Math.floor(oy - r)); y < Math.min(size, Math.ceil(oy + r)); y++) {
      for (let x = Math.max(0, Math.floor(ox - r)); x < Math.min(size, Math.ceil(ox + r)); x++) {
        const [dx, dy] = [x + 0.5 - ox, y + 0.5 - oy];
        if (o.shape(dx * cos + dy * sin, -dx * sin + dy * cos)) {
          put(img, depth, y * size + x, o.colour, o.z, haze);
        }
      }
    }
  }
  const data = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) {
    const v = img[i]! + (rng.nextU32() / 2 ** 32 - 0.5) * 0.06;
    data[i] = Math.round(255 * Math.min(1, Math.max(0, v)));
  }
  return { image: { data, channels: 3, height: size, width: size }, depth };
}

/** Writes a surface colour hazed by its depth, and the depth. */
function put(
  img: Float32Array,
  depth: Float32Array,
  pixel: number,
  colour: readonly number[],
  z: number,
  haze: readonly number[],
): void {
  const t = 0.7 * Math.min(1, z / SYNTHETIC_MAX_DEPTH);
  for (let c = 0; c < 3; c++) img[pixel * 3 + c] = colour[c]! * (1 - t) + haze[c]! * t;
  depth[pixel] = z;
}

function hsvToRgb(h: number, s: number, v: number): number[] {
  const f = (n: number): number => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}
