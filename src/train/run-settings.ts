// The host-side settings of a training run that the official config carries (train.dataset_path,
// num_workers, output_dir, saveckp_freq, evaluation.eval_period_iterations, MODEL.WEIGHTS,
// student.pretrained_weights), each used when its command-line flag is absent.
import { cpus } from "node:os";
import type { ResolvedConfig } from "../config/index.js";
import { ConfigError } from "../config/index.js";

/** Dataset classes of dinov2/data/loaders.py `_parse_dataset_str`. */
const OFFICIAL_DATASETS = ["ImageNet", "ImageNet22k"] as const;

export interface RunSettings {
  /** "synthetic" or an image folder. */
  readonly data: string;
  readonly workers: number;
  readonly outputDir: string;
  /** Checkpoint period in iterations: saveckp_freq epochs of OFFICIAL_EPOCH_LENGTH. */
  readonly checkpointEvery: number;
  /** Teacher evaluation period in iterations (0: never). */
  readonly evalEvery: number;
  /** A training checkpoint to start from (MODEL.WEIGHTS), when set. */
  readonly modelWeights?: string;
  /** Backbone weights loaded into student and teacher at the start (student.pretrained_weights). */
  readonly pretrainedWeights?: string;
  /** A frozen teacher with heads: the run distills (distillation.teacher_weights). */
  readonly distillTeacher?: string;
  /** One line for each setting that was adjusted to act here. */
  readonly notes: readonly string[];
}

export function runSettingsFromConfig({ cfg, derived }: ResolvedConfig): RunSettings {
  const notes: string[] = [];
  const cores = cpus().length;
  let workers = cfg.train.num_workers;
  if (workers > cores) {
    notes.push(
      `train.num_workers=${workers} capped to ${cores} data-loading threads (the machine's cores)`,
    );
    workers = cores;
  }
  return {
    data: datasetFromPath(cfg.train.dataset_path, notes),
    workers,
    outputDir: cfg.train.output_dir,
    checkpointEvery: Math.max(1, cfg.train.saveckp_freq * derived.itersPerEpoch),
    evalEvery: Math.max(0, cfg.evaluation.eval_period_iterations),
    ...(cfg.MODEL.WEIGHTS ? { modelWeights: cfg.MODEL.WEIGHTS } : {}),
    ...(cfg.student.pretrained_weights
      ? { pretrainedWeights: cfg.student.pretrained_weights }
      : {}),
    ...(cfg.distillation.teacher_weights
      ? { distillTeacher: cfg.distillation.teacher_weights }
      : {}),
    notes,
  };
}

/**
 * "synthetic", a folder, or an official dataset string `Name[:key=value...]`: its `root=` folder
 * is read as an image folder (class subfolders become labels); without a root it is refused.
 */
function datasetFromPath(path: string, notes: string[]): string {
  const [name, ...tokens] = path.split(":");
  if (!(OFFICIAL_DATASETS as readonly string[]).includes(name!)) return path;
  const kv = new Map(tokens.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));
  const root = kv.get("root");
  if (!root) {
    throw new ConfigError(
      "train.dataset_path",
      `train.dataset_path "${path}" names the official ${name} dataset class, which needs its extra metadata files; no image folder is given`,
      {
        hint: 'pass --data DIR (a folder of images), or set train.dataset_path to a folder or "synthetic"',
      },
    );
  }
  const ignored = [...kv.keys()].filter((k) => k !== "root");
  notes.push(
    `train.dataset_path: ${name} root ${root} is read as an image folder${ignored.length ? ` (${ignored.join(", ")} not used)` : ""}`,
  );
  return root;
}
