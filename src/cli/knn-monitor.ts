// k-NN evaluation of a backbone during or after training (official protocol: L2-normalised CLS
// features, T = 0.07, k = 10 and 20): labeled images preprocessed once, features per evaluation
// through one session (the weights are graph inputs). Which images index and which query: see
// planKnnSets.
import type { HostTensor } from "../core/index.js";
import { type DatasetSpec, datasetLength, openDataset } from "../data/datasets/dataset.js";
import { SYNTHETIC_CLASSES } from "../data/datasets/synthetic.js";
import { extractFeatures } from "../eval/features.js";
import { knnEval } from "../eval/knn.js";
import { heldOutSplit, stratifiedSample } from "../eval/knn-split.js";
import { evalTransform, preprocessInto } from "../inference/preprocess.js";
import type { Backbone } from "../models/backbone.js";
import type { VitOptions } from "../models/presets.js";
import { DinoVisionTransformer } from "../models/vision-transformer.js";
import type { Runtime } from "../runtime/index.js";

export interface LabeledImages {
  /** Preprocessed [N, 3, S, S]. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly side: number;
}

/** Decodes up to `limit` labeled images of a dataset (all by default) with the eval transform. */
export function loadLabeled(
  spec: DatasetSpec,
  side: number,
  patchSize: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<LabeledImages> {
  const n = Math.min(datasetLength(spec), limit);
  return loadLabeledAt(
    spec,
    side,
    patchSize,
    Array.from({ length: n }, (_, i) => i),
  );
}

/** Decodes the labeled images at `positions` of a dataset with the evaluation transform. */
export async function loadLabeledAt(
  spec: DatasetSpec,
  side: number,
  patchSize: number,
  positions: readonly number[],
): Promise<LabeledImages> {
  const ds = openDataset(spec);
  const t = evalTransform(side, patchSize);
  const per = 3 * side * side;
  const images = new Float32Array(positions.length * per);
  const labels: number[] = [];
  for (const i of positions) {
    const rec = await ds.get(i);
    if (!rec) continue;
    preprocessInto(rec, t, images, labels.length * per);
    labels.push(rec.label);
  }
  if (labels.some((l) => l < 0))
    throw new Error("k-NN evaluation needs labeled images (class subfolders)");
  return {
    images: images.subarray(0, labels.length * per),
    labels: Int32Array.from(labels),
    count: labels.length,
    side,
  };
}

/** The labels of a dataset without decoding it (-1 for unlabeled images). */
export function datasetLabels(spec: DatasetSpec): number[] {
  if (spec.kind === "image-folder") return [...spec.labels];
  const k = spec.numClasses ?? SYNTHETIC_CLASSES.length;
  return Array.from({ length: spec.length }, (_, i) => i % k);
}

function classNames(spec: DatasetSpec): readonly string[] {
  if (spec.kind === "image-folder") return spec.classNames;
  return SYNTHETIC_CLASSES.slice(0, spec.numClasses ?? SYNTHETIC_CLASSES.length).map((c) => c.name);
}

export interface KnnPlan {
  readonly index: { readonly spec: DatasetSpec; readonly positions: readonly number[] };
  readonly queries: { readonly spec: DatasetSpec; readonly positions: readonly number[] };
  /** Which images are the index and which the queries, for the log and the run's report. */
  readonly description: string;
}

/**
 * The k-NN monitor's sets for `train --val`. With labeled training images (class subfolders of
 * --data named as --val's) the index is a stratified sample of --data and the queries one of
 * --val; otherwise --val is split per seed into an index and held-out queries that never overlap,
 * stratified over classes. Each side holds at most `max` images.
 */
export function planKnnSets(
  data: DatasetSpec,
  val: DatasetSpec,
  seed: number,
  max = 5000,
): KnnPlan {
  const valLabels = datasetLabels(val);
  if (valLabels.some((l) => l < 0))
    throw new Error("--val needs labeled images: one subfolder per class");
  const dataLabeled = data.kind === "image-folder" && data.classNames.length > 0;
  if (dataLabeled) {
    const a = classNames(data).join(", ");
    const b = classNames(val).join(", ");
    if (a !== b)
      throw new Error(
        `--data and --val name different classes (--data: ${a}; --val: ${b}); the k-NN monitor needs the same classes`,
      );
    const index = stratifiedSample(datasetLabels(data), max, seed);
    const queries = stratifiedSample(valLabels, max, seed + 1);
    return {
      index: { spec: data, positions: index },
      queries: { spec: val, positions: queries },
      description: `k-NN monitor: index ${index.length} images of --data, queries ${queries.length} images of --val (stratified over ${valLabels.length ? new Set(valLabels).size : 0} classes, seed ${seed})`,
    };
  }
  const split = heldOutSplit(valLabels, { seed, maxIndex: max, maxQueries: max });
  return {
    index: { spec: val, positions: split.index },
    queries: { spec: val, positions: split.queries },
    description: `k-NN monitor: --data has no class labels, so --val is split: index ${split.index.length} images, held-out queries ${split.queries.length} images (disjoint, stratified over ${new Set(valLabels).size} classes, seed ${seed})`,
  };
}

/** Decodes the planned sets. */
export async function loadKnnSets(
  plan: KnnPlan,
  side: number,
  patchSize: number,
): Promise<{ index: LabeledImages; queries: LabeledImages }> {
  return {
    index: await loadLabeledAt(plan.index.spec, side, patchSize, plan.index.positions),
    queries: await loadLabeledAt(plan.queries.spec, side, patchSize, plan.queries.positions),
  };
}

export interface KnnMonitorResult {
  readonly [metric: string]: number;
}

/** L2-normalised CLS features [count, dim] of a labeled set under `weights`. */
export async function clsFeatures(
  runtime: Runtime,
  options: VitOptions,
  weights: ReadonlyMap<string, HostTensor>,
  set: LabeledImages,
): Promise<Float32Array> {
  const backbone: Backbone = { model: new DinoVisionTransformer(options), weights, options };
  const f = await extractFeatures(runtime, backbone, [set.images], {
    batchSize: 64,
    imageSize: set.side,
    weightsAs: "inputs", // one session for every evaluation of the run
  });
  return l2Rows(f.cls, options.embedDim);
}

/** Returns a function that scores backbone weights by k-NN top-1 of `queries` against `index`. */
export function knnMonitor(
  runtime: Runtime,
  options: VitOptions,
  index: LabeledImages,
  queries: LabeledImages,
  ks: readonly number[] = [10, 20],
) {
  return async (weights: ReadonlyMap<string, HostTensor>): Promise<KnnMonitorResult> => {
    const dim = options.embedDim;
    const feats = (set: LabeledImages) => clsFeatures(runtime, options, weights, set);
    const train = { features: await feats(index), labels: index.labels, dim };
    const val = { features: await feats(queries), labels: queries.labels, dim };
    const usable = ks.filter((k) => k <= index.count);
    const r = knnEval(train, val, { ks: usable, temperature: 0.07 });
    return Object.fromEntries(usable.map((k) => [`knn_top1_k${k}`, r.top1[k]!]));
  };
}

function l2Rows(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j++) out[r * dim + j] = x[r * dim + j]! * inv;
  }
  return out;
}
