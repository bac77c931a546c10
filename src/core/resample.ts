// Dense 1-D bicubic resampling matrices, exactly as PyTorch's F.interpolate(mode="bicubic",
// align_corners=False) on CPU float32 (upsample_bicubic2d and _upsample_bicubic2d_aa), and a
// separable applier. Used for image resizing and positional-embedding interpolation.

export interface BicubicOptions {
  /** `antialias=True`: PIL-style cubic (a = -0.5) whose support widens by 1/scale when shrinking. */
  readonly antialias: boolean;
  /** PyTorch `scale_factor` (output/input); the source index is (dst + 0.5) / scale - 0.5. */
  readonly scale?: number;
  readonly alignCorners?: false;
}

/**
 * The [outSize, inSize] row-major matrix M with out = M · in along one axis.
 * @example bicubicWeights(37, 16, { antialias: false, scale: 16.1 / 37 }) // Float64Array(16 * 37)
 */
export function bicubicWeights(inSize: number, outSize: number, opts: BicubicOptions): Float64Array {
  checkSizes(inSize, outSize);
  const m = new Float64Array(outSize * inSize);
  // area_pixel_compute_scale<float>: 1/scale_factor when given, else in/out (float32 math).
  const scale =
    opts.scale !== undefined && opts.scale > 0 ? f32(1 / opts.scale) : f32(inSize / outSize);
  if (opts.antialias) {
    // The separable AA kernel skips a dimension whose size does not change, whatever the scale.
    if (inSize === outSize) {
      for (let i = 0; i < inSize; i++) m[i * inSize + i] = 1;
      return m;
    }
    fillAntialiased(m, inSize, outSize, scale);
  } else {
    fillCubic(m, inSize, outSize, scale);
  }
  return m;
}

/** Output length of F.interpolate with `scale_factor` (C++ truncation of in * scale). */
export function interpolateOutputSize(inSize: number, scale: number): number {
  return Math.floor(inSize * scale);
}

/**
 * Resamples a CHW float image with `rows` ([outH, H]) and `cols` ([outW, W]): columns first,
 * then rows, with a float32 intermediate (PyTorch's separable order). Zero weights are skipped.
 */
export function applySeparable(
  img: Float32Array,
  C: number,
  H: number,
  W: number,
  rows: Float64Array,
  cols: Float64Array,
): Float32Array {
  const outH = rows.length / H;
  const outW = cols.length / W;
  if (img.length !== C * H * W || !Number.isInteger(outH) || !Number.isInteger(outW)) {
    throw new RangeError(
      `applySeparable: sizes do not match; got image ${img.length} for [${C},${H},${W}], ` +
        `rows ${rows.length}, cols ${cols.length}`,
    );
  }
  const colRange = nonzeroRanges(cols, outW, W);
  const tmp = new Float32Array(C * H * outW);
  for (let cy = 0; cy < C * H; cy++) {
    const src = cy * W;
    const dst = cy * outW;
    for (let o = 0; o < outW; o++) {
      let acc = 0;
      const wBase = o * W;
      for (let i = colRange[2 * o]!; i < colRange[2 * o + 1]!; i++) {
        acc += cols[wBase + i]! * img[src + i]!;
      }
      tmp[dst + o] = acc;
    }
  }
  const rowRange = nonzeroRanges(rows, outH, H);
  const out = new Float32Array(C * outH * outW);
  const acc = new Float64Array(outW);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < outH; o++) {
      acc.fill(0);
      for (let i = rowRange[2 * o]!; i < rowRange[2 * o + 1]!; i++) {
        const w = rows[o * H + i]!;
        const src = (c * H + i) * outW;
        for (let x = 0; x < outW; x++) acc[x]! += w * tmp[src + x]!;
      }
      out.set(acc, (c * outH + o) * outW);
    }
  }
  return out;
}

const f32 = Math.fround;

function checkSizes(inSize: number, outSize: number): void {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 1 || outSize < 1) {
    throw new RangeError(
      `bicubicWeights: sizes must be positive integers; got in ${inSize}, out ${outSize}`,
    );
  }
}

/** upsample_bicubic2d: Keys cubic with A = -0.75 on 4 taps; out-of-range taps clamp to the edge. */
function fillCubic(m: Float64Array, inSize: number, outSize: number, scale: number): void {
  const A = -0.75;
  for (let o = 0; o < outSize; o++) {
    const real = f32(f32(scale * (o + 0.5)) - 0.5);
    const idx = Math.min(Math.floor(real), inSize - 1);
    const t = Math.min(Math.max(f32(real - idx), 0), 1);
    const coeffs = [
      cubic2(t + 1, A),
      cubic1(t, A),
      cubic1(1 - t, A),
      cubic2(2 - t, A),
    ] as const;
    for (let k = 0; k < 4; k++) {
      const j = Math.max(Math.min(idx - 1 + k, inSize - 1), 0);
      m[o * inSize + j]! += f32(coeffs[k]);
    }
  }
}

/** _upsample_bicubic2d_aa: PIL's bicubic (a = -0.5) over a support scaled by 1/scale, normalised. */
function fillAntialiased(m: Float64Array, inSize: number, outSize: number, scale: number): void {
  const support = f32(scale >= 1 ? 2 * scale : 2);
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const w = new Float64Array(maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = f32(scale * (o + 0.5));
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - xmin, 0), maxTaps);
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      w[j] = f32(keysCubic(f32((j + xmin - center + 0.5) * invScale)));
      total = f32(total + w[j]!);
    }
    if (total === 0) continue;
    for (let j = 0; j < xsize; j++) m[o * inSize + xmin + j] = f32(w[j]! / total);
  }
}

function keysCubic(x: number): number {
  const ax = Math.abs(x);
  if (ax < 1) return cubic1(ax, -0.5);
  if (ax < 2) return cubic2(ax, -0.5);
  return 0;
}

function cubic1(x: number, A: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}

function cubic2(x: number, A: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/** Per output row, [first, last + 1) of its nonzero weights, packed as pairs. */
function nonzeroRanges(m: Float64Array, outSize: number, inSize: number): Int32Array {
  const r = new Int32Array(2 * outSize);
  for (let o = 0; o < outSize; o++) {
    let lo = 0;
    let hi = inSize;
    while (lo < hi && m[o * inSize + lo] === 0) lo++;
    while (hi > lo && m[o * inSize + hi - 1] === 0) hi--;
    r[2 * o] = lo;
    r[2 * o + 1] = hi;
  }
  return r;
}
