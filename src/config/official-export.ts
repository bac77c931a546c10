// A resolved config as a YAML file the official trainer (dinov2/train/train.py, PyTorch FSDP)
// accepts unchanged: the path past one machine. Our own keys are dropped when they hold the
// value the official code implies, and refused, naming the key, when they do not (the official
// trainer could not honour them).
import { stringify } from "yaml";
import { ConfigError } from "./errors.js";
import type { DeepReadonly, TrainConfig } from "./schema.js";

/** The archs of dinov2/models/vision_transformer.py. */
const OFFICIAL_ARCHS: readonly string[] = ["vit_small", "vit_base", "vit_large", "vit_giant2"];

/** Keys of ours, with the value the official code behaves as (undefined: must be unset). */
const OURS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ["student.embed_dim", undefined],
  ["student.depth", undefined],
  ["student.num_heads", undefined],
  ["crops.blur_mode", "released"],
  ["optim.adamw_eps", 1e-8],
  ["optim.freeze_backbone_iters", 0],
  ["distillation.teacher_weights", ""],
  ["distillation.ibot_all_patches", true],
  ["distillation.student_ema", true],
  ["distillation.student_drop_path_rate", 0],
]);

const WHY: Readonly<Record<string, string>> = {
  "student.embed_dim": "the official trainer builds only the named archs (student.arch)",
  "student.depth": "the official trainer builds only the named archs (student.arch)",
  "student.num_heads": "the official trainer builds only the named archs (student.arch)",
  "crops.blur_mode": "the official trainer has the released blur probabilities only",
  "optim.adamw_eps": "the official trainer uses torch's AdamW default eps 1e-8",
  "optim.freeze_backbone_iters": "the official trainer has no head warm-up",
};

/** The config as official YAML; throws ConfigError for a setting the official code cannot take. */
export function officialConfigYaml(cfg: DeepReadonly<TrainConfig>): string {
  const out = structuredClone(cfg) as unknown as Record<string, Record<string, unknown>>;
  for (const [path, official] of OURS) {
    const [section, key] = path.split(".") as [string, string];
    const value = out[section]?.[key];
    if (value !== undefined && value !== official) {
      const why = WHY[path] ?? "distillation is ours: the official repository never released it";
      throw new ConfigError(
        path,
        `${path}=${JSON.stringify(value)} cannot be written for the official trainer: ${why}`,
      );
    }
    if (out[section]) delete out[section][key];
  }
  delete out.distillation;
  if (!OFFICIAL_ARCHS.includes(cfg.student.arch))
    throw new ConfigError(
      "student.arch",
      `student.arch=${cfg.student.arch} is ours; the official trainer builds ${OFFICIAL_ARCHS.join(", ")}`,
    );
  if (cfg.train.dataset_path === "synthetic")
    throw new ConfigError(
      "train.dataset_path",
      'train.dataset_path "synthetic" is ours; the official trainer reads ImageNet / ImageNet22k datasets',
      {
        hint: "set train.dataset_path to the official dataset string, e.g. ImageNet:split=TRAIN:root=...:extra=...",
      },
    );
  // The official default holds `lr: 0.` as a placeholder the scaling rule fills in.
  out.optim = { ...out.optim, lr: 0 };
  return `# Written by dinov2-ts for dinov2/train/train.py (official keys only)\n${stringify(out)}`;
}
