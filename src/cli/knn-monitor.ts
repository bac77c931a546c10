// k-NN evaluation of a backbone during or after training (official protocol: L2-normalised CLS
// features, T = 0.07, k = 10 and 20): labeled images preprocessed once, features per evaluation.
import type { HostTensor } from "../core/index.js";
import { type DatasetSpec, openDataset } from "../data/datasets/dataset.js";
import { extractFeatures } from "../eval/features.js";
import { knnEval } from "../eval/knn.js";
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

/** Decodes up to `limit` labeled images of a dataset with the evaluation transform at `side`. */
export async function loadLabeled(
  spec: DatasetSpec,
  side: number,
  patchSize: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<LabeledImages> {
  const ds = openDataset(spec);
  const t = evalTransform(side, patchSize);
  const n = Math.min(ds.length, limit);
  const per = 3 * side * side;
  const images = new Float32Array(n * per);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
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
