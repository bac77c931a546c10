// `dinov2 train`: self-supervised DINOv2 pretraining on a folder of images (or the built-in
// synthetic set), with checkpoints, resume, periodic k-NN and the teacher exported at the end.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile, PRESET_NAMES, resolveConfig } from "../../config/index.js";
import { configNotices } from "../../config/notices.js";
import { officialConfigYaml } from "../../config/official-export.js";
import { parseProvider } from "../../runtime/index.js";
import { runSettingsFromConfig } from "../../train/run-settings.js";
import { loadSslNetwork } from "../../train/ssl-teacher.js";
import { type CommandContext, defineCommand, type Flags, type FlagValues } from "../command.js";
import { intFlag } from "../flag-values.js";
import { type KnnPlan, loadKnnSets, planKnnSets } from "../knn-monitor.js";
import { STEP_FLAGS, stepChoicesFromFlags } from "../step-flags.js";
import { datasetFromFlag, type KnnSets, trainWithReports } from "../train-run.js";

/** The flags of `dinov2 train`, shared with `dinov2 distill`. */
export const TRAIN_FLAGS = {
  data: {
    type: "string",
    valueName: "DIR",
    description: 'images to train on (recursive), or "synthetic" (default: train.dataset_path)',
  },
  "output-dir": {
    type: "string",
    valueName: "DIR",
    description: "where checkpoints, metrics and exports go (default: train.output_dir)",
  },
  config: {
    type: "string",
    valueName: "FILE",
    description: "a YAML or JSON config (official keys)",
  },
  preset: { type: "string", valueName: "NAME", description: "a named preset (see above)" },
  set: {
    type: "string",
    multiple: true,
    valueName: "KEY=VALUE",
    description: "override one config key (repeatable), e.g. --set optim.base_lr=0.002",
  },
  iters: {
    type: "string",
    valueName: "N",
    description: "stop after N iterations (default: the schedule's length)",
  },
  seed: { type: "string", valueName: "N", description: "train.seed" },
  resume: { type: "boolean", description: "continue from the newest checkpoint in --output-dir" },
  "init-from": {
    type: "string",
    valueName: "FILE",
    description:
      "start from a checkpoint's weights (high-resolution phase: a larger --set crops.global_crops_size)",
  },
  val: {
    type: "string",
    valueName: "DIR",
    description: "labeled images (class subfolders) for periodic k-NN",
  },
  "eval-every": {
    type: "string",
    valueName: "N",
    description:
      "evaluate the teacher every N iterations: export it to eval/training_<N>/, k-NN with --val (default: evaluation.eval_period_iterations)",
  },
  "checkpoint-every": {
    type: "string",
    valueName: "N",
    description: "checkpoint every N iterations (default: train.saveckp_freq epochs)",
  },
  workers: {
    type: "string",
    valueName: "N",
    description: "data loading worker threads (default: train.num_workers, at most the cores)",
  },
  provider: {
    type: "string",
    valueName: "NAME",
    description: "cpu | webgpu | cuda",
    default: "cpu",
  },
  "write-official-config": {
    type: "string",
    valueName: "FILE",
    description:
      "write the resolved config as YAML for the official dinov2/train/train.py (multi-node FSDP), then exit",
  },
  threads: {
    type: "string",
    valueName: "N",
    description: "onnxruntime intra-op threads (default: all cores)",
  },
  ...STEP_FLAGS,
} as const satisfies Flags;

export const trainCommand = defineCommand({
  name: "train",
  summary: "pretrain a ViT with DINOv2 (DINO + iBOT + KoLeo, EMA teacher) on images",
  description: [
    "Config: official YAML keys (dinov2/configs/ssl_default_config.yaml) merged as",
    "defaults <- --preset <- --config <- --set. The resolved config is saved as <output-dir>/config.json.",
    "Writes metrics.jsonl, loss_curve.png, checkpoints/ (atomic; --resume continues bit-identically)",
    "and export/ (teacher backbone in the official and Hugging Face layouts).",
    "With --val <dir> of class subfolders, k-NN top-1 (T=0.07, k=10,20) is logged every --eval-every.",
    `Presets: ${PRESET_NAMES.join(", ")}.`,
  ].join("\n"),
  flags: TRAIN_FLAGS,
  examples: [
    "dinov2 train --preset vits14-demo --data synthetic --output-dir runs/demo --iters 500",
    "dinov2 train --config my.yaml --data ~/images --val ~/labeled --output-dir runs/r1 --set train.batch_size_per_gpu=32",
    "dinov2 train --preset vits14-demo --output-dir runs/demo --resume",
    "dinov2 train --preset vits14-demo --output-dir runs/hr --init-from runs/demo/checkpoints/checkpoint-0000500.safetensors --set crops.global_crops_size=112 --iters 100",
  ],
  run: (v, ctx) => runTrainCommand(v, ctx),
});

/** Resolves the config, then trains (or distills, with a frozen teacher) with reports. */
export async function runTrainCommand(
  v: FlagValues<typeof TRAIN_FLAGS>,
  ctx: CommandContext,
  o: {
    readonly teacher?: string;
    readonly teacherNumHeads?: number;
    readonly sets?: readonly string[];
  } = {},
): Promise<number> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const sets = [
    ...(o.sets ?? []),
    ...v.set,
    ...(v.seed !== undefined ? [`train.seed=${v.seed}`] : []),
    ...(o.teacher ? [`distillation.teacher_weights=${o.teacher}`] : []),
  ];
  const resolved = resolveConfig({
    ...(v.preset ? { preset: v.preset } : {}),
    ...(v.config ? { file: loadConfigFile(v.config) } : {}),
    sets,
  });
  const { cfg, derived } = resolved;
  if (v["write-official-config"]) {
    writeFileSync(v["write-official-config"], officialConfigYaml(cfg));
    log(
      `wrote ${v["write-official-config"]} (official keys; run it with dinov2/train/train.py --config-file)`,
    );
    return 0;
  }
  const settings = runSettingsFromConfig(resolved);
  for (const line of [...configNotices(cfg), ...settings.notes]) log(line);
  const outputDir = v["output-dir"] ?? settings.outputDir;
  const size = Math.max(64, cfg.crops.global_crops_size + 8);
  const dataset = await datasetFromFlag(v.data ?? settings.data, cfg.train.seed, size, log);
  let knn: KnnSets | undefined;
  let knnPlan: KnnPlan | undefined;
  if (v.val) {
    const val = await datasetFromFlag(v.val, cfg.train.seed + 1, size, log);
    knnPlan = planKnnSets(dataset, val, cfg.train.seed);
    log(knnPlan.description);
    knn = await loadKnnSets(knnPlan, cfg.crops.global_crops_size, derived.backbone.patchSize);
  }
  const out = await trainWithReports({
    resolved,
    dataset,
    outputDir: outputDir,
    ...(v.iters !== undefined ? { iters: intFlag(v.iters, "iters", { min: 1 }) } : {}),
    resume: v.resume,
    ...(v["init-from"] ? { initFrom: v["init-from"] } : {}),
    workers: v.workers === undefined ? settings.workers : intFlag(v.workers, "workers", { min: 0 }),
    ...(settings.modelWeights ? { modelWeights: settings.modelWeights } : {}),
    ...(settings.distillTeacher
      ? {
          distillTeacher: loadSslNetwork(settings.distillTeacher, {
            ...(o.teacherNumHeads ? { numHeads: o.teacherNumHeads } : {}),
          }),
        }
      : {}),
    ...(settings.pretrainedWeights ? { pretrainedWeights: settings.pretrainedWeights } : {}),
    provider: parseProvider(v.provider),
    ...(v.threads !== undefined ? { threads: intFlag(v.threads, "threads", { min: 1 }) } : {}),
    ...stepChoicesFromFlags(v, parseProvider(v.provider)),
    checkpointEvery:
      v["checkpoint-every"] === undefined
        ? settings.checkpointEvery
        : intFlag(v["checkpoint-every"], "checkpoint-every", { min: 1 }),
    evalEvery:
      v["eval-every"] === undefined
        ? settings.evalEvery
        : intFlag(v["eval-every"], "eval-every", { min: 0 }),
    ...(knn ? { knn } : {}),
    log,
  });
  const last = out.result.history[out.result.history.length - 1];
  ctx.out(
    JSON.stringify({
      iterations: out.result.state.iteration,
      resumed_from: out.result.resumedFrom,
      losses: last?.losses ?? null,
      ...(out.finalEval ?? {}),
      ...(knnPlan ? { knn_sets: knnPlan.description } : {}),
      files: {
        ...out.files,
        metrics: join(outputDir, "metrics.jsonl"),
        config: join(outputDir, "config.json"),
      },
    }),
  );
  return 0;
}
