// Depth inference and scoring: backbone and trained head in one graph, depth clamped to the range
// and resized to the ground truth, then the standard metrics over valid pixels (min < gt < max),
// per image and averaged over images as the Monocular-Depth-Estimation-Toolbox does.
import { hostTensor, input } from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import { bindConstants } from "../nn/module.js";
import type { Runtime } from "../runtime/index.js";
import { type DenseBatch, type DenseFeatureSpec, denseFeatureMap } from "./dense-features.js";
import { type DepthHeadParams, depthPrediction } from "./depth-head.js";

export interface DepthMetrics {
  readonly rmse: number;
  readonly absRel: number;
  /** Fraction of pixels with max(pred/gt, gt/pred) < 1.25 (and 1.25², 1.25³). */
  readonly delta1: number;
  readonly delta2: number;
  readonly delta3: number;
}

export interface DepthPreview {
  readonly pixels: Float32Array;
  readonly target: Float32Array;
  readonly pred: Float32Array;
}

export interface DepthEvalResult extends DepthMetrics {
  /** Images with at least one valid pixel (the others are skipped). */
  readonly images: number;
  readonly previews: readonly DepthPreview[];
}

/** Metrics of one image over pixels with min < gt < max; null when there are none. */
export function depthMetrics(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  minDepth: number,
  maxDepth: number,
): DepthMetrics | null {
  let n = 0;
  let se = 0;
  let rel = 0;
  const d = [0, 0, 0];
  for (let i = 0; i < gt.length; i++) {
    const g = gt[i]!;
    if (!(g > minDepth && g < maxDepth)) continue;
    const p = pred[i]!;
    n++;
    se += (p - g) ** 2;
    rel += Math.abs(p - g) / g;
    const ratio = Math.max(p / g, g / p);
    for (let k = 0; k < 3; k++) if (ratio < 1.25 ** (k + 1)) d[k]!++;
  }
  if (n === 0) return null;
  return {
    rmse: Math.sqrt(se / n),
    absRel: rel / n,
    delta1: d[0]! / n,
    delta2: d[1]! / n,
    delta3: d[2]! / n,
  };
}

/** Scores a trained depth head on batches whose targets are depths in metres. */
export async function evaluateDepth(
  runtime: Runtime,
  backbone: Backbone,
  spec: DenseFeatureSpec,
  head: DepthHeadParams,
  batches: AsyncIterable<DenseBatch> | Iterable<DenseBatch>,
  opts: { side: number; batchSize: number; previews?: number; onBatch?: (n: number) => void },
): Promise<DepthEvalResult> {
  const { side: S, batchSize: B } = opts;
  bindConstants(backbone.model, backbone.weights);
  const feats = denseFeatureMap(backbone.model, input("images", [B, 3, S, S]), spec);
  const exe = await runtime.compile({ depth: depthPrediction(feats, head, S) });
  const plane = S * S;
  const sums = { rmse: 0, absRel: 0, delta1: 0, delta2: 0, delta3: 0 };
  const previews: DepthPreview[] = [];
  let images = 0;
  try {
    for await (const batch of batches) {
      for (let at = 0; at < batch.count; at += B) {
        const n = Math.min(B, batch.count - at);
        const pixels = new Float32Array(B * 3 * plane);
        pixels.set(batch.pixels.subarray(at * 3 * plane, (at + n) * 3 * plane));
        const out = await exe.run({ images: hostTensor("float32", [B, 3, S, S], pixels) });
        const depth = out.depth!.data as Float32Array;
        for (let i = 0; i < n; i++) {
          const pred = depth.subarray(i * plane, (i + 1) * plane);
          const gt = batch.targets.subarray((at + i) * plane, (at + i + 1) * plane);
          const m = depthMetrics(pred, gt, head.minDepth, head.maxDepth);
          if (!m) continue;
          images++;
          for (const k of Object.keys(sums) as (keyof DepthMetrics)[]) sums[k] += m[k];
          if (previews.length < (opts.previews ?? 0)) {
            previews.push({
              pixels: pixels.slice(i * 3 * plane, (i + 1) * 3 * plane),
              target: Float32Array.from(gt),
              pred: Float32Array.from(pred),
            });
          }
        }
        opts.onBatch?.(n);
      }
    }
  } finally {
    await exe.release();
  }
  const mean = (v: number) => (images ? v / images : Number.NaN);
  return {
    rmse: mean(sums.rmse),
    absRel: mean(sums.absRel),
    delta1: mean(sums.delta1),
    delta2: mean(sums.delta2),
    delta3: mean(sums.delta3),
    images,
    previews,
  };
}
