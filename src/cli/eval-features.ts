// What every frozen-feature evaluation command shares: the flags (--model, --train/--val or the
// built-in --synthetic set, --image-size, --provider, --output-dir), resolving the splits (class
// folders must match between splits), and streaming each split through the backbone in batches of
// EXTRACT_BATCH images: pixels are decoded, transformed and dropped batch by batch, so memory is
// bounded by the batch and the kept feature rows, never by the folder's pixels.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DatasetSpec, type ImageRecord, openDataset } from "../data/datasets/dataset.js";
import { scanImageFolder } from "../data/datasets/image-folder.js";
import { SYNTHETIC_CLASSES } from "../data/datasets/synthetic.js";
import { type FeatureHead, RowCollector, streamFeatures } from "../eval/feature-stream.js";
import type { FeatureSet } from "../eval/metrics.js";
import { evalTransform, preprocessInto } from "../inference/preprocess.js";
import type { Backbone } from "../models/backbone.js";
import { createRuntime, PROVIDERS, type Runtime } from "../runtime/index.js";
import type { Flags } from "./command.js";
import { asUsage, choiceFlag, intFlag } from "./flag-values.js";
import { MODEL_ARCH_FLAGS, resolveModelFlags } from "./model-flags.js";
import { createProgressBar } from "./progress.js";
import { UsageError } from "./usage-error.js";

/** Images per backbone run while extracting features (the bound on pixels held). */
export const EXTRACT_BATCH = 32;

/** The built-in synthetic splits: the demo's held-out k-NN sets (seeds 1001 / 1002, 64 px). */
export const SYNTHETIC_SEEDS = { train: 1001, val: 1002 } as const;

/** --model, --provider, --image-size, --output-dir: every frozen-feature evaluation takes them. */
export const MODEL_FLAGS = {
  model: {
    type: "string",
    valueName: "FILE|DIR|PRESET",
    description: "checkpoint, HF folder or preset name (random weights)",
  },
  ...MODEL_ARCH_FLAGS,
  "image-size": {
    type: "string",
    valueName: "PX",
    description: "eval crop side (multiple of the patch size)",
    default: "224",
  },
  provider: {
    type: "string",
    valueName: "NAME",
    description: `execution provider: ${PROVIDERS.join(", ")}`,
    default: "cpu",
  },
  "output-dir": {
    type: "string",
    valueName: "DIR",
    description: "where the results JSON and pictures go (default runs/<command>)",
  },
} as const satisfies Flags;

/** The flags of the classification evaluations (eval-knn, eval-linear, eval-logreg). */
export const EVAL_FLAGS = {
  ...MODEL_FLAGS,
  train: {
    type: "string",
    valueName: "DIR",
    description: "labeled images (class subfolders): the train split",
  },
  val: {
    type: "string",
    valueName: "DIR",
    description: "labeled images (the same class subfolders): the val split",
  },
  synthetic: {
    type: "string",
    valueName: "N_TRAIN,N_VAL",
    description:
      "use the built-in synthetic set (10 shape classes, 64 px, seeds 1001/1002) instead of --train/--val",
  },
} as const satisfies Flags;

type Values<F extends Flags> = { readonly [K in keyof F]: string | undefined };

/** One labeled split: where it comes from and what it holds. */
export interface EvalSplit {
  /** The folder, or "synthetic(seed=1001, n=1000)". */
  readonly name: string;
  readonly spec: DatasetSpec;
  readonly classNames: readonly string[];
  readonly count: number;
  /** Optional crop box [x1, y1, x2, y2] in pixels of image i, applied before the transform. */
  readonly crop?: (index: number) => readonly [number, number, number, number] | undefined;
}

export interface ModelSetup {
  readonly runtime: Runtime;
  readonly backbone: Backbone;
  readonly description: string;
  readonly imageSize: number;
  readonly outputDir: string;
}

/** Resolves --model, --provider, --image-size and --output-dir. */
export async function setupModel(
  v: Values<typeof MODEL_FLAGS>,
  command: string,
  log: (s: string) => void,
): Promise<ModelSetup> {
  if (!v.model) {
    throw new UsageError("--model is required", {
      flag: "--model",
      hint: `run \`dinov2 ${command} --help\``,
    });
  }
  const model = v.model;
  const { backbone, description } = resolveModelFlags(model, v);
  log(`model: ${description}`);
  const runtime = await createRuntime({
    provider: choiceFlag(v.provider ?? "cpu", "provider", PROVIDERS),
  });
  const imageSize = intFlag(v["image-size"] ?? "224", "image-size", {
    min: backbone.options.patchSize,
  });
  asUsage("--image-size", () => evalTransform(imageSize, backbone.options.patchSize));
  const outputDir = v["output-dir"] ?? join("runs", command);
  mkdirSync(outputDir, { recursive: true });
  return { runtime, backbone, description, imageSize, outputDir };
}

/** --train and --val (class folders that must match), or --synthetic N_TRAIN,N_VAL. */
export async function resolveSplits(
  v: Values<typeof EVAL_FLAGS>,
  command: string,
  log: (s: string) => void,
): Promise<{ readonly train: EvalSplit; readonly val: EvalSplit; readonly numClasses: number }> {
  if (v.synthetic !== undefined) {
    if (v.train || v.val) {
      throw new UsageError("--synthetic replaces --train and --val; give one or the other", {
        flag: "--synthetic",
      });
    }
    const [a, b, extra] = v.synthetic.split(",");
    if (b === undefined || extra !== undefined) {
      throw new UsageError(`--synthetic: got "${v.synthetic}", expected N_TRAIN,N_VAL`, {
        flag: "--synthetic",
      });
    }
    const train = syntheticSplit(SYNTHETIC_SEEDS.train, intFlag(a!, "synthetic", { min: 1 }));
    const val = syntheticSplit(SYNTHETIC_SEEDS.val, intFlag(b, "synthetic", { min: 1 }));
    return { train, val, numClasses: train.classNames.length };
  }
  for (const flag of ["train", "val"] as const) {
    if (!v[flag]) {
      throw new UsageError(`--${flag} is required (or --synthetic N_TRAIN,N_VAL)`, {
        flag: `--${flag}`,
        hint: `run \`dinov2 ${command} --help\``,
      });
    }
  }
  const train = await folderSplit(v.train!, log);
  const val = await folderSplit(v.val!, log);
  checkSameClasses(train, val);
  return { train, val, numClasses: train.classNames.length };
}

/** The built-in synthetic set: image i has class i mod 10, 64 px. */
export function syntheticSplit(seed: number, length: number): EvalSplit {
  return {
    name: `synthetic(seed=${seed}, n=${length})`,
    spec: { kind: "synthetic", seed, length, size: 64 },
    classNames: SYNTHETIC_CLASSES.map((c) => c.name),
    count: length,
  };
}

/** A folder of class subfolders (at least 2). */
export async function folderSplit(dir: string, log: (s: string) => void): Promise<EvalSplit> {
  const scan = await scanImageFolder(dir);
  if (scan.spec.classNames.length < 2) {
    throw new UsageError(
      `${dir} needs class subfolders (at least 2) to evaluate; found ${scan.spec.classNames.length}`,
    );
  }
  const unlabeled = scan.spec.labels.filter((l) => l < 0).length;
  if (unlabeled > 0) {
    throw new UsageError(
      `${dir} has ${unlabeled} image(s) outside any class subfolder (e.g. ${scan.spec.files[scan.spec.labels.indexOf(-1)]})`,
      { hint: "move every image into a class subfolder" },
    );
  }
  if (scan.skipped.length) log(`skipped ${scan.skipped.length} unreadable file(s) in ${dir}`);
  log(`${dir}: ${scan.spec.files.length} images in ${scan.spec.classNames.length} classes`);
  return {
    name: dir,
    spec: scan.spec,
    classNames: scan.spec.classNames,
    count: scan.spec.files.length,
  };
}

/** Any folder of images (nested or flat, no class requirement): retrieval queries / database. */
export async function folderSplitFlat(dir: string, log: (s: string) => void): Promise<EvalSplit> {
  const scan = await scanImageFolder(dir);
  if (scan.skipped.length) log(`skipped ${scan.skipped.length} unreadable file(s) in ${dir}`);
  log(`${dir}: ${scan.spec.files.length} images`);
  return { name: dir, spec: scan.spec, classNames: [], count: scan.spec.files.length };
}

/** The pixels inside [x1, y1, x2, y2] (clamped to the image, rounded outward). */
export function cropRecord(
  rec: ImageRecord,
  box: readonly [number, number, number, number],
  where: string,
): ImageRecord {
  const x1 = Math.max(0, Math.floor(box[0]));
  const y1 = Math.max(0, Math.floor(box[1]));
  const x2 = Math.min(rec.width, Math.ceil(box[2]));
  const y2 = Math.min(rec.height, Math.ceil(box[3]));
  if (!(x2 > x1 && y2 > y1)) {
    throw new UsageError(
      `${where}: bbox [${box.join(", ")}] leaves nothing of a ${rec.width}×${rec.height} image`,
    );
  }
  const c = rec.channels;
  const data = new Uint8Array((x2 - x1) * (y2 - y1) * c);
  for (let y = y1; y < y2; y++) {
    data.set(
      rec.data.subarray((y * rec.width + x1) * c, (y * rec.width + x2) * c),
      (y - y1) * (x2 - x1) * c,
    );
  }
  return { data, channels: c, height: y2 - y1, width: x2 - x1, label: rec.label };
}

/** Labels are class indices in sorted-name order, so both splits must have the same folders. */
export function checkSameClasses(a: EvalSplit, b: EvalSplit): void {
  const onlyA = a.classNames.filter((c) => !b.classNames.includes(c));
  const onlyB = b.classNames.filter((c) => !a.classNames.includes(c));
  if (onlyA.length || onlyB.length) {
    const list = (xs: string[]) => (xs.length ? xs.slice(0, 5).join(", ") : "none");
    throw new UsageError(
      `class folders differ between ${a.name} and ${b.name}: only in ${a.name}: ${list(onlyA)}; only in ${b.name}: ${list(onlyB)}`,
      { hint: "both splits need the same class subfolder names (labels follow the sorted names)" },
    );
  }
}

/** Writes `results_<name>.json` into `dir` and returns its path. */
export function writeResults(dir: string, name: string, results: unknown): string {
  const path = join(dir, `results_${name}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

/** Writes one image's [3, S, S] floats at `offset`. */
export type Render = (rec: ImageRecord, out: Float32Array, offset: number) => void;

/** The official eval transform (resize 256/224 · S, center crop S, ImageNet normalisation). */
export function evalRender(imageSize: number, patchSize: number): Render {
  const t = evalTransform(imageSize, patchSize);
  return (rec, out, offset) => preprocessInto(rec, t, out, offset);
}

/**
 * The split's images, rendered `batchSize` at a time: each yield is a fresh [n, 3, S, S] array
 * and nothing is decoded before it is asked for. Undecodable images are skipped; every yielded
 * image's label (and, with `indices`, its dataset index) is appended first.
 */
export async function* imageBatches(
  spec: DatasetSpec,
  render: Render,
  imageSize: number,
  batchSize: number,
  labels: number[],
  onImage?: (done: number) => void,
  indices?: number[],
  crop?: EvalSplit["crop"],
): AsyncGenerator<Float32Array> {
  const ds = openDataset(spec);
  const per = 3 * imageSize * imageSize;
  let batch = new Float32Array(batchSize * per);
  let filled = 0;
  for (let i = 0; i < ds.length; i++) {
    const got = await ds.get(i);
    onImage?.(i + 1);
    if (!got) continue;
    const box = crop?.(i);
    const rec = box ? cropRecord(got, box, `image ${i} of ${spec.kind}`) : got;
    render(rec, batch, filled * per);
    labels.push(rec.label);
    indices?.push(i);
    if (++filled === batchSize) {
      yield batch;
      batch = new Float32Array(batchSize * per);
      filled = 0;
    }
  }
  if (filled > 0) yield batch.subarray(0, filled * per);
}

export interface SplitFeatures extends FeatureSet {
  /** Images skipped as undecodable. */
  readonly skipped: number;
  /** The dataset index of every row. */
  readonly indices: Int32Array;
}

/**
 * Streams a split through `head` (default: the normed CLS token) and keeps output `key`'s rows.
 * @example await splitFeatures(m, split, log) // { features: [N, D], labels, dim: D, skipped: 0 }
 */
export async function splitFeatures(
  m: ModelSetup,
  split: EvalSplit,
  log: (s: string) => void,
  head: FeatureHead = clsHead,
  key = "x",
): Promise<SplitFeatures> {
  const labels: number[] = [];
  const indices: number[] = [];
  const bar = createProgressBar({
    total: split.count,
    label: `features ${split.name}`,
    unit: "img",
  });
  const render = evalRender(m.imageSize, m.backbone.options.patchSize);
  let rows: RowCollector | undefined;
  const batches = imageBatches(
    split.spec,
    render,
    m.imageSize,
    EXTRACT_BATCH,
    labels,
    (d) => bar.update(d),
    indices,
    split.crop,
  );
  await streamFeatures(
    m.runtime,
    m.backbone,
    batches,
    head,
    { batchSize: EXTRACT_BATCH, imageSize: m.imageSize },
    (out, n) => {
      const x = out[key]!;
      rows ??= new RowCollector(x.length / n);
      rows.push(x);
    },
  );
  bar.finish();
  const skipped = split.count - labels.length;
  if (skipped > 0) log(`${split.name}: skipped ${skipped} undecodable image(s)`);
  if (!rows || labels.length === 0) {
    throw new UsageError(`${split.name}: no image could be decoded`);
  }
  return {
    features: rows.matrix(),
    labels: Int32Array.from(labels),
    dim: rows.dim,
    skipped,
    indices: Int32Array.from(indices),
  };
}

/** The final-norm CLS token, x_norm_clstoken [B, D]. */
export const clsHead: FeatureHead = (model, images) => ({
  x: model.forwardFeatures(images).clsToken,
});

/** 0.1234 -> "12.34%". */
export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
