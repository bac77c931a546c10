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
export function bicubicWeights(
  inSize: number,
  outSize: number,
  opts: BicubicOptions,
): Float64Array {
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
  // Columns first, as PyTorch: transposed so both passes are fast whole-row sweeps.
  const tmpT = sweepRows(transposePlanes(img, C, H, W), C, W, H, packTaps(cols, outW, W));
  const tmp = transposePlanes(tmpT, C, outW, H);
  return sweepRows(tmp, C, H, outW, packTaps(rows, outH, H));
}

/** Resamples the rows axis of [C, inRows, width] planes: out[c, o] = Σ_t w_t · in[c, start[o] + t]. */
function sweepRows(
  src: Float32Array,
  C: number,
  inRows: number,
  width: number,
  taps: Taps,
): Float32Array {
  const outRows = taps.start.length;
  const out = new Float32Array(C * outRows * width);
  const acc = new Float64Array(width);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < outRows; o++) {
      accumulateRows(acc, src, taps, o, c * inRows, width);
      out.set(acc, (c * outRows + o) * width);
    }
  }
  return out;
}

/** [C, H, W] → [C, W, H]. */
function transposePlanes(src: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(src.length);
  const plane = H * W;
  for (let c = 0; c < C; c++) {
    const base = c * plane;
    for (let y = 0; y < H; y++) {
      const row = base + y * W;
      for (let x = 0; x < W; x++) out[base + x * H + y] = src[row + x]!;
    }
  }
  return out;
}

/** Nonzero weights of each output, packed: out[o] = Σ_t weights[o·stride + t] · in[start[o] + t]. */
interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly stride: number;
  readonly weights: Float64Array;
}

function packTaps(m: Float64Array, outSize: number, inSize: number): Taps {
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let lo = 0;
    let hi = inSize;
    while (lo < hi && m[o * inSize + lo] === 0) lo++;
    while (hi > lo && m[o * inSize + hi - 1] === 0) hi--;
    start[o] = lo;
    count[o] = hi - lo;
  }
  const stride = Math.max(1, ...count);
  const weights = new Float64Array(outSize * stride);
  for (let o = 0; o < outSize; o++) {
    for (let t = 0; t < count[o]!; t++) weights[o * stride + t] = m[o * inSize + start[o]! + t]!;
  }
  return { start, count, stride, weights };
}

/** acc = Σ_t w_t · tmp[row start[o] + t] over whole rows, four rows per sweep. */
function accumulateRows(
  acc: Float64Array,
  tmp: Float32Array,
  taps: Taps,
  o: number,
  rowBase: number,
  width: number,
): void {
  acc.fill(0);
  const n = taps.count[o]!;
  const b = o * taps.stride;
  const w = taps.weights;
  const first = rowBase + taps.start[o]!;
  let t = 0;
  for (; t + 3 < n; t += 4) {
    const [w0, w1, w2, w3] = [w[b + t]!, w[b + t + 1]!, w[b + t + 2]!, w[b + t + 3]!];
    const s0 = (first + t) * width;
    const s1 = s0 + width;
    const s2 = s1 + width;
    const s3 = s2 + width;
    for (let x = 0; x < width; x++) {
      acc[x]! += w0 * tmp[s0 + x]! + w1 * tmp[s1 + x]! + w2 * tmp[s2 + x]! + w3 * tmp[s3 + x]!;
    }
  }
  for (; t < n; t++) {
    const wt = w[b + t]!;
    const s = (first + t) * width;
    for (let x = 0; x < width; x++) acc[x]! += wt * tmp[s + x]!;
  }
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
    const coeffs = [cubic2(t + 1, A), cubic1(t, A), cubic1(1 - t, A), cubic2(2 - t, A)] as const;
    for (let k = 0; k < 4; k++) {
      const j = Math.max(Math.min(idx - 1 + k, inSize - 1), 0);
      m[o * inSize + j]! += f32(coeffs[k]!);
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
    const xsize = Math.min(
      Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - xmin, 0),
      maxTaps,
    );
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

/**
 * The [outSize, inSize] matrix of PyTorch's F.interpolate(mode="bilinear", align_corners=False)
 * along one axis, output size given (scale = in / out in float32): the source index
 * max((dst + 0.5) · scale − 0.5, 0) split between its two neighbours, the upper one clamped.
 * @example bilinearWeights(2, 4) // rows [1,0], [0.75,0.25], [0.25,0.75], [0,1]
 */
export function bilinearWeights(inSize: number, outSize: number): Float64Array {
  checkSizes(inSize, outSize);
  const m = new Float64Array(outSize * inSize);
  const scale = f32(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const real = Math.max(f32(f32(scale * (o + 0.5)) - 0.5), 0);
    const i0 = Math.min(Math.floor(real), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const lambda = f32(real - i0);
    m[o * inSize + i0]! += f32(1 - lambda);
    m[o * inSize + i1]! += lambda;
  }
  return m;
}
