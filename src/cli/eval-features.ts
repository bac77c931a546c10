// Frozen-backbone features of a labeled image folder (class subfolders), for eval-knn and
// eval-linear: the official eval transform, then the CLS token of every image.
import { scanImageFolder } from "../data/datasets/image-folder.js";
import { extractFeatures } from "../eval/features.js";
import type { FeatureSet } from "../eval/metrics.js";
import type { Backbone } from "../models/backbone.js";
import { createRuntime, PROVIDERS, type Runtime } from "../runtime/index.js";
import type { Flags } from "./command.js";
import { choiceFlag, intFlag, requiredFlag } from "./flag-values.js";
import { loadLabeled } from "./knn-monitor.js";
import { MODEL_ARCH_FLAGS, resolveModelFlags } from "./model-flags.js";
import { UsageError } from "./usage-error.js";

/** The flags every frozen-feature evaluation takes. */
export const EVAL_FLAGS = {
  model: {
    type: "string",
    valueName: "FILE|DIR|PRESET",
    description: "checkpoint, HF folder or preset name (random weights)",
  },
  ...MODEL_ARCH_FLAGS,
  train: {
    type: "string",
    valueName: "DIR",
    description: "labeled images (class subfolders): the train split",
  },
  val: {
    type: "string",
    valueName: "DIR",
    description: "labeled images (class subfolders): the val split",
  },
  "image-size": {
    type: "string",
    valueName: "PX",
    description: "eval crop side (multiple of 14)",
    default: "224",
  },
  provider: {
    type: "string",
    valueName: "NAME",
    description: `execution provider: ${PROVIDERS.join(", ")}`,
    default: "cpu",
  },
} as const satisfies Flags;

export interface EvalSplits {
  readonly runtime: Runtime;
  readonly train: FolderFeatures;
  readonly val: FolderFeatures;
  /** Classes over both splits. */
  readonly numClasses: number;
}

/** Resolves --model and --provider, then the CLS features of --train and --val. */
export async function evalSplits(
  v: { readonly [K in keyof typeof EVAL_FLAGS]: string | undefined },
  command: string,
  log: (s: string) => void,
): Promise<EvalSplits> {
  const { backbone, description } = resolveModelFlags(requiredFlag(v.model, "model", command), v);
  log(`model: ${description}`);
  const runtime = await createRuntime({
    provider: choiceFlag(v.provider ?? "cpu", "provider", PROVIDERS),
  });
  const size = intFlag(v["image-size"] ?? "224", "image-size", { min: backbone.options.patchSize });
  const split = (dir: string | undefined, flag: "train" | "val") =>
    labeledFolderFeatures(runtime, backbone, requiredFlag(dir, flag, command), size, log);
  const train = await split(v.train, "train");
  const val = await split(v.val, "val");
  return {
    runtime,
    train,
    val,
    numClasses: Math.max(train.classNames.length, val.classNames.length),
  };
}

/** 0.1234 -> "12.34%". */
export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export interface FolderFeatures extends FeatureSet {
  readonly classNames: readonly string[];
}

export async function labeledFolderFeatures(
  runtime: Runtime,
  backbone: Backbone,
  dir: string,
  imageSize: number,
  log: (s: string) => void,
): Promise<FolderFeatures> {
  const scan = await scanImageFolder(dir);
  if (scan.spec.classNames.length < 2) {
    throw new UsageError(
      `${dir} needs class subfolders (at least 2) to evaluate; found ${scan.spec.classNames.length}`,
    );
  }
  if (scan.skipped.length) log(`skipped ${scan.skipped.length} unreadable file(s) in ${dir}`);
  const images = await loadLabeled(scan.spec, imageSize, backbone.options.patchSize);
  log(`${dir}: ${images.count} images in ${scan.spec.classNames.length} classes`);
  const f = await extractFeatures(runtime, backbone, [images.images], { batchSize: 32, imageSize });
  return { features: f.cls, labels: images.labels, dim: f.dim, classNames: scan.spec.classNames };
}
