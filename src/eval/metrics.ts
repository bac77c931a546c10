// Top-k accuracy over class scores, as dinov2/eval/metrics.py (MulticlassAccuracy, average="micro").
import { ShapeError } from "../core/errors.js";

/** Features of N samples with their labels: `features` is [N, dim], row-major. */
export interface FeatureSet {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly dim: number;
}

/**
 * Whether `label` is among the `k` best of `scores[offset .. offset + numClasses)`. Ties rank the
 * lower class index first (a stable sort), so the answer is deterministic.
 */
export function isInTopK(
  scores: ArrayLike<number>,
  offset: number,
  numClasses: number,
  label: number,
  k: number,
): boolean {
  const target = scores[offset + label]!;
  let better = 0;
  for (let c = 0; c < numClasses; c++) {
    const s = scores[offset + c]!;
    if (s > target || (s === target && c < label)) {
      better++;
      if (better >= k) return false;
    }
  }
  return true;
}

/** Fraction (0..1) of rows of `scores` [N, numClasses] whose label is in the top k. */
export function topKAccuracy(
  scores: ArrayLike<number>,
  labels: Int32Array,
  numClasses: number,
  k: number,
): number {
  if (scores.length !== labels.length * numClasses) {
    throw new ShapeError(
      "topKAccuracy",
      `scores have ${scores.length} values; got ${labels.length} labels × ${numClasses} classes, expected ${labels.length * numClasses}`,
    );
  }
  if (labels.length === 0) return 0;
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    if (isInTopK(scores, i * numClasses, numClasses, labels[i]!, k)) hits++;
  }
  return hits / labels.length;
}

/** Checks a feature set's array lengths and labels; returns its sample count. */
export function checkFeatureSet(
  op: string,
  name: string,
  set: FeatureSet,
  numClasses?: number,
): number {
  const { features, labels, dim } = set;
  if (!Number.isInteger(dim) || dim <= 0 || features.length !== labels.length * dim) {
    throw new ShapeError(
      op,
      `${name} features have ${features.length} values; got ${labels.length} labels × dim ${dim}, expected ${labels.length * dim}`,
    );
  }
  if (numClasses !== undefined) {
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (y < 0 || y >= numClasses) {
        throw new ShapeError(
          op,
          `${name} labels[${i}] is ${y}; expected a class in [0, ${numClasses})`,
          {
            hint: "pass numClasses when the train labels do not contain the largest class",
          },
        );
      }
    }
  }
  return labels.length;
}

/** The number of classes implied by labels: max + 1 (dinov2: `train_labels.max() + 1`). */
export function classCount(labels: Int32Array): number {
  let m = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > m) m = labels[i]!;
  return m + 1;
}
