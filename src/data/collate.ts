// SSL batch collation with iBOT mask sampling. Port of dinov2/data/collate.py
// (collate_data_and_cast): crop-major stacking, stratified mask ratios, padded mask indices.
import { assert } from "../core/errors.js";
import type { MultiCrops } from "./augment.js";
import { createMaskingGenerator, type MaskingGenerator, officialMaxNumPatches } from "./masking.js";
import { linspaceF32, truncMulF32 } from "./python-numerics.js";
import type { Rng } from "./rng.js";

/** One augmented image: its crops and, when the dataset has one, its class label. */
export interface SslSample extends MultiCrops {
  readonly label?: number;
}

export interface CollateOptions {
  readonly maskRatioMinMax: readonly [number, number];
  readonly maskProbability: number;
  readonly patchSize: number;
  readonly globalCropsSize: number;
  readonly rng: Rng;
  /** Defaults to the official generator on the (G / patch)² grid. */
  readonly maskGenerator?: MaskingGenerator;
}

/** A collated batch of B images; every array is flat, row-major, with the shape in its comment. */
export interface SslBatch {
  readonly batchSize: number;
  readonly nGlobalCrops: number;
  readonly nLocalCrops: number;
  readonly globalCropsSize: number;
  readonly localCropsSize: number;
  /** Patches per global crop, N = (G / patch)². */
  readonly nPatches: number;
  /** [nGlobal·B, 3, G, G], crop-major: every image's first crop, then every second crop. */
  readonly globalCrops: Float32Array;
  /** [nLocal·B, 3, L, L], crop-major. */
  readonly localCrops: Float32Array;
  /** [nGlobal·B, N], 1 = masked. */
  readonly masks: Uint8Array;
  /** [upperbound]: flat indices into masks of the masked patches, then zeros as padding. */
  readonly maskIndices: Int32Array;
  /** [upperbound]: 1 / max(masked count of its crop, 1) per masked patch, 0 for padding. */
  readonly maskWeights: Float32Array;
  readonly nMaskedPatches: number;
  /** Σ int(N · probs[i + 1]): a static bound on nMaskedPatches for fixed-shape graphs. */
  readonly upperbound: number;
  /** [B] class labels, -1 where unknown. */
  readonly labels: Int32Array;
}

/** collate_data_and_cast: stacks crops and draws block masks for a random half of the crops. */
export function collateSsl(samples: readonly SslSample[], opts: CollateOptions): SslBatch {
  const B = samples.length;
  const first = samples[0];
  if (!first) throw new RangeError("collateSsl: got an empty batch, expected at least one sample");
  const nG = first.globalCrops.length;
  const nL = first.localCrops.length;
  const G = opts.globalCropsSize;
  const grid = Math.floor(G / opts.patchSize);
  const N = grid * grid;
  const globalCrops = stackCropMajor(samples, (s) => s.globalCrops, nG, 3 * G * G, "global");
  const localLen = first.localCrops[0]?.length ?? 0;
  const localCrops = stackCropMajor(samples, (s) => s.localCrops, nL, localLen, "local");
  const gen =
    opts.maskGenerator ??
    createMaskingGenerator({
      height: grid,
      width: grid,
      maxNumPatches: officialMaxNumPatches(G, opts.patchSize),
    });

  const nCrops = nG * B;
  const nMasked = Math.trunc(nCrops * opts.maskProbability);
  const probs = linspaceF32(opts.maskRatioMinMax[0], opts.maskRatioMinMax[1], nMasked + 1);
  const masksList: Uint8Array[] = [];
  let upperbound = 0;
  for (let i = 0; i < nMasked; i++) {
    const lo = probs[i]!;
    const hi = probs[i + 1]!;
    // random.uniform on float32 tensors: lo + (hi - lo) * random(), all in float32.
    const ratio = Math.fround(lo + Math.fround(Math.fround(hi - lo) * opts.rng.uniform()));
    masksList.push(gen(truncMulF32(N, ratio), opts.rng));
    upperbound += truncMulF32(N, hi);
  }
  for (let i = nMasked; i < nCrops; i++) masksList.push(gen(0, opts.rng));
  opts.rng.shuffle(masksList);

  const masks = new Uint8Array(nCrops * N);
  for (const [i, m] of masksList.entries()) masks.set(m, i * N);
  const { maskIndices, maskWeights, nMaskedPatches } = maskIndexList(masks, nCrops, N, upperbound);
  const labels = Int32Array.from(samples, (s) => s.label ?? -1);
  const localCropsSize = Math.round(Math.sqrt(localLen / 3));
  return {
    batchSize: B,
    nGlobalCrops: nG,
    nLocalCrops: nL,
    globalCropsSize: G,
    localCropsSize,
    nPatches: N,
    globalCrops,
    localCrops,
    masks,
    maskIndices,
    maskWeights,
    nMaskedPatches,
    upperbound,
    labels,
  };
}

function stackCropMajor(
  samples: readonly SslSample[],
  crops: (s: SslSample) => readonly Float32Array[],
  nCrops: number,
  cropLen: number,
  kind: string,
): Float32Array {
  const B = samples.length;
  const out = new Float32Array(nCrops * B * cropLen);
  samples.forEach((s, b) => {
    const list = crops(s);
    if (list.length !== nCrops) {
      throw new RangeError(
        `collateSsl: sample ${b} has ${list.length} ${kind} crops, expected ${nCrops}`,
      );
    }
    list.forEach((crop, i) => {
      if (crop.length !== cropLen) {
        throw new RangeError(
          `collateSsl: sample ${b} ${kind} crop ${i} has ${crop.length} values, expected ${cropLen}`,
        );
      }
      out.set(crop, (i * B + b) * cropLen);
    });
  });
  return out;
}

/** nonzero(masks.flatten()) and the per-token weights, both padded to `upperbound`. */
function maskIndexList(masks: Uint8Array, nCrops: number, N: number, upperbound: number) {
  const maskIndices = new Int32Array(upperbound);
  const maskWeights = new Float32Array(upperbound);
  let k = 0;
  for (let c = 0; c < nCrops; c++) {
    let count = 0;
    for (let p = 0; p < N; p++) count += masks[c * N + p]!;
    const w = 1 / Math.max(count, 1);
    for (let p = 0; p < N; p++) {
      if (masks[c * N + p] === 0) continue;
      assert(k < upperbound, `collateSsl: masked patches exceed the upperbound ${upperbound}`);
      maskIndices[k] = c * N + p;
      maskWeights[k] = w;
      k++;
    }
  }
  return { maskIndices, maskWeights, nMaskedPatches: k };
}
