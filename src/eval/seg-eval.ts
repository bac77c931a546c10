// Segmentation inference and scoring: for every scale (and its horizontal flip), the backbone and
// the trained BNHead in one graph, class probabilities upsampled to the label size and averaged
// (mmseg's aug_test), argmax, a confusion matrix. Scale 1 without flip is the `lin.` protocol.
import {
  add,
  concat,
  constant,
  gather,
  hostTensor,
  input,
  mul,
  resizeBilinear,
  slice,
  type Tensor,
} from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import { bindConstants } from "../nn/module.js";
import type { Executable, Runtime } from "../runtime/index.js";
import { type DenseBatch, type DenseFeatureSpec, denseFeatureMap } from "./dense-features.js";
import { type SegHeadParams, segHeadLogits, segProbabilities } from "./seg-head.js";
import { ConfusionMatrix, type SegMetrics } from "./seg-metrics.js";

export interface SegEvalOptions {
  readonly side: number;
  readonly batchSize: number;
  /** Image scale ratios (official +ms: 1.0, 1.32, 1.73, 2.28, 3.0); default [1]. */
  readonly scales?: readonly number[];
  /** Also average the horizontally flipped image's prediction (official +ms: yes). */
  readonly flip?: boolean;
  /** Keep the predictions of this many first images for pictures. */
  readonly previews?: number;
  readonly onBatch?: (n: number) => void;
}

export interface SegPreview {
  /** The preprocessed input [3, S, S], its labels and the prediction [S, S]. */
  readonly pixels: Float32Array;
  readonly target: Uint8Array;
  readonly pred: Uint8Array;
}

export interface SegEvalResult extends SegMetrics {
  readonly previews: readonly SegPreview[];
  readonly images: number;
}

/** Scores a trained head on labelled batches (targets: class indices, 255 ignored). */
export async function evaluateSegmentation(
  runtime: Runtime,
  backbone: Backbone,
  spec: DenseFeatureSpec,
  head: SegHeadParams,
  batches: AsyncIterable<DenseBatch> | Iterable<DenseBatch>,
  opts: SegEvalOptions,
): Promise<SegEvalResult> {
  const { side, batchSize: B } = opts;
  const k = head.numClasses;
  const plane = side * side;
  const exes: Executable[] = [];
  try {
    for (const r of opts.scales ?? [1]) {
      exes.push(
        await runtime.compile({
          probs: scaleGraph(backbone, spec, head, B, side, r, opts.flip ?? false),
        }),
      );
    }
    const confusion = new ConfusionMatrix(k);
    const previews: SegPreview[] = [];
    let images = 0;
    for await (const batch of batches) {
      for (let at = 0; at < batch.count; at += B) {
        const n = Math.min(B, batch.count - at);
        const pixels = new Float32Array(B * 3 * plane);
        pixels.set(batch.pixels.subarray(at * 3 * plane, (at + n) * 3 * plane));
        const feeds = { images: hostTensor("float32", [B, 3, side, side], pixels) };
        const sum = new Float32Array(B * k * plane);
        for (const exe of exes) {
          const p = (await exe.run(feeds)).probs!.data as Float32Array;
          for (let i = 0; i < sum.length; i++) sum[i]! += p[i]!;
        }
        for (let i = 0; i < n; i++) {
          const pred = argmaxClasses(sum, i, k, plane);
          const target = batch.targets.subarray((at + i) * plane, (at + i + 1) * plane);
          confusion.add(pred, target);
          if (previews.length < (opts.previews ?? 0)) {
            previews.push({
              pixels: pixels.slice(i * 3 * plane, (i + 1) * 3 * plane),
              target: Uint8Array.from(target),
              pred,
            });
          }
        }
        images += n;
        opts.onBatch?.(n);
      }
    }
    return { ...confusion.metrics(), previews, images };
  } finally {
    for (const e of exes) await e.release();
  }
}

/** The side an image of side S has at ratio r, rounded to whole patches (CenterPadding's role). */
export function scaledSide(side: number, ratio: number, patch: number): number {
  return Math.max(patch, Math.round((side * ratio) / patch) * patch);
}

/** Probabilities [B, K, S, S] averaged over the image and (optionally) its mirror, at one scale. */
function scaleGraph(
  backbone: Backbone,
  spec: DenseFeatureSpec,
  head: SegHeadParams,
  batch: number,
  side: number,
  ratio: number,
  flip: boolean,
): Tensor {
  bindConstants(backbone.model, backbone.weights);
  const images = input("images", [batch, 3, side, side]);
  const s = scaledSide(side, ratio, backbone.options.patchSize);
  let x = s === side ? images : resizeBilinear(images, s, s);
  if (flip) x = concat([x, mirror(x)], 0);
  const logits = segHeadLogits(denseFeatureMap(backbone.model, x, spec), head);
  if (flip) {
    // Mirroring the logit map before or after the (symmetric) bilinear upsampling is the same.
    const [plain, mirrored] = [slice(logits, 0, 0, batch), slice(logits, 0, batch)];
    return mulHalf(segProbabilities(plain, side), segProbabilities(mirror(mirrored), side));
  }
  return segProbabilities(logits, side);
}

/** Reverses the last axis. */
function mirror(x: Tensor): Tensor {
  const w = x.shape[x.shape.length - 1]!;
  const idx = constant(
    hostTensor(
      "int64",
      [w],
      Array.from({ length: w }, (_, i) => w - 1 - i),
    ),
  );
  return gather(x, idx, x.shape.length - 1);
}

function mulHalf(a: Tensor, b: Tensor): Tensor {
  return mul(add(a, b), 0.5);
}

function argmaxClasses(sum: Float32Array, image: number, k: number, plane: number): Uint8Array {
  const out = new Uint8Array(plane);
  const base = image * k * plane;
  for (let p = 0; p < plane; p++) {
    let best = 0;
    let bestV = sum[base + p]!;
    for (let c = 1; c < k; c++) {
      const v = sum[base + c * plane + p]!;
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[p] = best;
  }
  return out;
}
