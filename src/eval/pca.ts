// The DINOv2 paper's patch-feature PCA pictures (Fig. 1): the first 3 principal components of
// the patch tokens as RGB, optionally after a first-component threshold that drops the background.
import { ShapeError } from "../core/errors.js";
import { type RgbImage, upscaleNearest } from "./rgb-image.js";

export interface PcaPictureOptions {
  /**
   * Foreground = patches whose first component, min-max scaled to [0, 1], exceeds this. Background
   * patches are black and the colours come from a second PCA of the foreground only.
   */
  readonly foregroundThreshold?: number;
  /** Output pixels per patch (nearest upscaling); default 14, the patch size of the models. */
  readonly cellPx?: number;
  /** Subspace-iteration steps (it stops earlier once converged). */
  readonly iterations?: number;
}

export interface PcaPicture extends RgbImage {
  /** Colour components in [0, 1], [P, 3]; zero for background patches. */
  readonly components: Float32Array;
  /** 1 for foreground patches (all of them without a threshold), [P]. */
  readonly foreground: Uint8Array;
}

export interface Pca {
  readonly mean: Float64Array; // [D]
  /** Unit principal axes, largest variance first, [count, D]. */
  readonly axes: Float64Array;
}

/**
 * A picture of patch features [P = gridH·gridW, D]: PCA to 3 components, each min-max scaled to
 * RGB, nearest-upscaled. Deterministic: fixed start vectors, and each axis's largest entry is
 * positive. With a threshold, the first axis is oriented so the image border (usually background)
 * is low.
 * @example pcaPatchPicture(patches, 16, 16, { foregroundThreshold: 0.5 }) // 224×224 RGB
 */
export function pcaPatchPicture(
  patchTokens: Float32Array,
  gridH: number,
  gridW: number,
  opts: PcaPictureOptions = {},
): PcaPicture {
  const p = gridH * gridW;
  const dim = patchTokens.length / p;
  if (p === 0 || !Number.isInteger(dim) || dim === 0) {
    throw new ShapeError(
      "pcaPatchPicture",
      `patch tokens have ${patchTokens.length} values; expected ${gridH}×${gridW}×D`,
    );
  }
  const iterations = opts.iterations ?? 100;
  const all = Int32Array.from({ length: p }, (_, i) => i);
  let rows = all;
  if (opts.foregroundThreshold !== undefined) {
    const first = minMax(
      project(patchTokens, dim, all, principalComponents(patchTokens, dim, all, 1, iterations)),
      1,
    );
    if (mean(first, borderPatches(gridH, gridW)) > mean(first, all))
      for (let i = 0; i < p; i++) first[i] = 1 - first[i]!;
    rows = all.filter((i) => first[i]! > opts.foregroundThreshold!);
  }
  const colours = minMax(
    project(patchTokens, dim, rows, principalComponents(patchTokens, dim, rows, 3, iterations)),
    3,
  );
  const components = new Float32Array(p * 3);
  const foreground = new Uint8Array(p);
  const small = { width: gridW, height: gridH, data: new Uint8Array(p * 3) };
  rows.forEach((patch, n) => {
    foreground[patch] = 1;
    for (let c = 0; c < 3; c++) {
      components[patch * 3 + c] = colours[n * 3 + c]!;
      small.data[patch * 3 + c] = Math.round(colours[n * 3 + c]! * 255);
    }
  });
  return { ...upscaleNearest(small, opts.cellPx ?? 14), components, foreground };
}

/** The top `count` principal axes of rows `rows` of x [N, dim], by subspace iteration. */
export function principalComponents(
  x: Float32Array,
  dim: number,
  rows: Int32Array,
  count: number,
  iterations = 100,
): Pca {
  const n = rows.length;
  const mu = new Float64Array(dim);
  rows.forEach((r) => {
    for (let d = 0; d < dim; d++) mu[d]! += x[r * dim + d]! / n;
  });
  const xc = new Float64Array(n * dim);
  rows.forEach((r, i) => {
    for (let d = 0; d < dim; d++) xc[i * dim + d] = x[r * dim + d]! - mu[d]!;
  });
  let s = 12345;
  const start = Float64Array.from({ length: count * dim }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  });
  let axes = orthonormalize(start, count, dim);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(count * dim); // Xcᵀ Xc V, row by row
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < count; c++) {
        let proj = 0;
        for (let d = 0; d < dim; d++) proj += xc[i * dim + d]! * axes[c * dim + d]!;
        for (let d = 0; d < dim; d++) next[c * dim + d]! += proj * xc[i * dim + d]!;
      }
    }
    const v = orthonormalize(next, count, dim);
    let change = 0;
    for (let c = 0; c < count; c++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += v[c * dim + d]! * axes[c * dim + d]!;
      change = Math.max(change, 1 - Math.abs(dot));
    }
    axes = v;
    if (change < 1e-12) break;
  }
  for (let c = 0; c < count; c++) {
    const row = axes.subarray(c * dim, (c + 1) * dim);
    const big = row.reduce((b, v, d) => (Math.abs(v) > Math.abs(row[b]!) ? d : b), 0);
    if (row[big]! < 0) for (let d = 0; d < dim; d++) row[d] = -row[d]!;
  }
  return { mean: mu, axes };
}

/** Coordinates of rows `rows` of x on every axis, [rows, count]. */
function project(x: Float32Array, dim: number, rows: Int32Array, pca: Pca): Float64Array {
  const count = pca.axes.length / dim;
  const out = new Float64Array(rows.length * count);
  rows.forEach((r, i) => {
    for (let c = 0; c < count; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (x[r * dim + d]! - pca.mean[d]!) * pca.axes[c * dim + d]!;
      out[i * count + c] = s;
    }
  });
  return out;
}

/** Scales each of the `cols` columns of v [n, cols] to [0, 1] in place (constant columns to 0). */
function minMax(v: Float64Array, cols: number): Float64Array {
  for (let c = 0; c < cols; c++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = c; i < v.length; i += cols) {
      lo = Math.min(lo, v[i]!);
      hi = Math.max(hi, v[i]!);
    }
    const range = hi - lo > 1e-12 * Math.max(1, Math.abs(hi)) ? hi - lo : Number.POSITIVE_INFINITY;
    for (let i = c; i < v.length; i += cols) v[i] = (v[i]! - lo) / range;
  }
  return v;
}

/** Gram-Schmidt on the rows of v [count, dim]; a row with no new direction becomes zero. */
function orthonormalize(v: Float64Array, count: number, dim: number): Float64Array {
  for (let c = 0; c < count; c++) {
    const row = v.subarray(c * dim, (c + 1) * dim);
    for (let q = 0; q < c; q++) {
      const prev = v.subarray(q * dim, (q + 1) * dim);
      const dot = row.reduce((s, x, d) => s + x * prev[d]!, 0);
      for (let d = 0; d < dim; d++) row[d]! -= dot * prev[d]!;
    }
    const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0));
    for (let d = 0; d < dim; d++) row[d] = norm > 1e-30 ? row[d]! / norm : 0;
  }
  return v;
}

function borderPatches(gridH: number, gridW: number): Int32Array {
  const out: number[] = [];
  for (let y = 0; y < gridH; y++) {
    for (let x = 0; x < gridW; x++) {
      if (y === 0 || x === 0 || y === gridH - 1 || x === gridW - 1) out.push(y * gridW + x);
    }
  }
  return Int32Array.from(out);
}

function mean(v: Float64Array, at: Int32Array): number {
  return at.reduce((s, i) => s + v[i]!, 0) / Math.max(1, at.length);
}
