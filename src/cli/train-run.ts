// What `dinov2 train` and `dinov2 demo` share: datasets from flags, periodic k-NN, the progress
// bar, and the artefacts written at the end (teacher export, loss curve, PCA picture).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedConfig } from "../config/index.js";
import type { HostTensor } from "../core/index.js";
import type { DatasetSpec } from "../data/datasets/dataset.js";
import { scanImageFolder } from "../data/datasets/image-folder.js";
import { extractFeatures } from "../eval/features.js";
import { pcaPatchPicture } from "../eval/pca.js";
import { lossCurvePng } from "../eval/plot.js";
import { imageFromChw, imageGrid, type RgbImage, upscaleNearest, writePng } from "../eval/png.js";
import type { VitOptions } from "../models/presets.js";
import { DinoVisionTransformer } from "../models/vision-transformer.js";
import { createRuntime, type Provider, type Runtime } from "../runtime/index.js";
import { exportTeacher, saveTeacherForEval } from "../train/export.js";
import { stepConfigFromTrain } from "../train/from-config.js";
import {
  resultBackbone,
  resultPrefix,
  runTraining,
  type StepReport,
  type TrainResult,
} from "../train/loop.js";
import type { SslNetwork } from "../train/ssl-teacher.js";
import type { StepImpl } from "../train/step-config.js";
import { knnMonitor, type LabeledImages, loadLabeled } from "./knn-monitor.js";
import { createProgressBar } from "./progress.js";

/** "synthetic" or a folder of images (class subfolders become labels). */
export async function datasetFromFlag(
  data: string,
  seed: number,
  size: number,
  log: (s: string) => void,
): Promise<DatasetSpec> {
  if (data === "synthetic") return { kind: "synthetic", seed, length: 1_000_000, size };
  const scan = await scanImageFolder(data);
  if (scan.skipped.length > 0) {
    log(`skipped ${scan.skipped.length} unreadable file(s) in ${data}:`);
    for (const s of scan.skipped.slice(0, 20)) log(`  ${s.path}: ${s.reason}`);
  }
  return scan.spec;
}

export interface KnnSets {
  readonly index: LabeledImages;
  readonly queries: LabeledImages;
}

export interface TrainRunFlags {
  readonly resolved: ResolvedConfig;
  readonly dataset: DatasetSpec;
  readonly outputDir: string;
  readonly iters?: number;
  readonly resume: boolean;
  readonly initFrom?: string;
  readonly modelWeights?: string;
  readonly pretrainedWeights?: string;
  readonly distillTeacher?: SslNetwork;
  readonly workers: number;
  readonly provider: Provider;
  readonly threads?: number;
  /** How the step is computed and onnxruntime's CPU arena (default: implFor / trainRuntimeOptions). */
  readonly impl?: StepImpl;
  readonly memArena?: boolean;
  readonly checkpointEvery: number;
  readonly evalEvery: number;
  readonly knn?: KnnSets;
  readonly log: (s: string) => void;
}

export interface TrainRunOutcome {
  readonly result: TrainResult;
  readonly backbone: VitOptions;
  readonly runtime: Runtime;
  readonly finalEval?: Readonly<Record<string, number>>;
  readonly files: Readonly<Record<string, string>>;
}

/** Trains with a progress bar, then exports the teacher and draws the loss curve. */
export async function trainWithReports(f: TrainRunFlags): Promise<TrainRunOutcome> {
  const c = stepConfigFromTrain(f.resolved);
  const runtime = await createRuntime({
    provider: f.provider,
    ...(f.threads ? { threads: f.threads } : {}),
  });
  const monitor = f.knn
    ? knnMonitor(runtime, c.arch.backbone, f.knn.index, f.knn.queries)
    : undefined;
  const total = Math.min(f.iters ?? f.resolved.derived.totalIters, f.resolved.derived.totalIters);
  const bar = createProgressBar({ total, label: "train", unit: "it" });
  let finalEval: Record<string, number> | undefined;
  const result = await runTraining({
    resolved: f.resolved,
    dataset: f.dataset,
    outputDir: f.outputDir,
    iters: total,
    resume: f.resume,
    ...(f.initFrom ? { initFrom: f.initFrom } : {}),
    ...(f.modelWeights ? { modelWeights: f.modelWeights } : {}),
    ...(f.pretrainedWeights ? { pretrainedWeights: f.pretrainedWeights } : {}),
    ...(f.distillTeacher ? { distillTeacher: f.distillTeacher } : {}),
    workers: f.workers,
    provider: f.provider,
    ...(f.threads ? { threads: f.threads } : {}),
    ...(f.impl ? { impl: f.impl } : {}),
    ...(f.memArena !== undefined ? { memArena: f.memArena } : {}),
    checkpointEvery: f.checkpointEvery,
    ...(f.evalEvery > 0
      ? {
          evalEvery: f.evalEvery,
          evaluate: async (state, iteration) => {
            // As the official do_test: the teacher saved under eval/training_<iteration>/.
            saveTeacherForEval(
              join(f.outputDir, "eval", `training_${iteration}`),
              state,
              c.arch.backbone,
              resultPrefix(state),
            );
            return monitor ? monitor(resultBackbone(state)) : {};
          },
        }
      : {}),
    onStep: (s: StepReport) => {
      if (s.eval) finalEval = { ...s.eval };
      bar.update(s.iteration, fmtLosses(s));
    },
  });
  bar.finish();
  const files: Record<string, string> = {};
  if (result.history.length > 0 || result.resumedFrom > 0) {
    const exported = exportTeacher(
      join(f.outputDir, "export"),
      resultBackbone(result.state),
      c.arch.backbone,
    );
    files.teacher_official = exported.official;
    files.teacher_hf = exported.hfDir;
    files.loss_curve = join(f.outputDir, "loss_curve.png");
    drawLossCurve(join(f.outputDir, "metrics.jsonl"), files.loss_curve);
  }
  return { result, backbone: c.arch.backbone, runtime, ...(finalEval ? { finalEval } : {}), files };
}

function fmtLosses(s: StepReport): string {
  const l = s.losses;
  const dino =
    l.dino_global_crops_loss === undefined
      ? undefined
      : l.dino_global_crops_loss + (l.dino_local_crops_loss ?? 0);
  const parts = Object.entries({ loss: l.total, dino, ibot: l.ibot_loss, koleo: l.koleo_loss })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${v!.toFixed(3)}`);
  if (s.eval)
    parts.push(...Object.entries(s.eval).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`));
  return parts.join(" ");
}

/** The loss terms of a training run's metrics.jsonl, in plotting order. */
export const LOSS_TERMS = [
  "total",
  "dino_local_crops_loss",
  "dino_global_crops_loss",
  "ibot_loss",
  "koleo_loss",
] as const;

/** The loss terms that appear in the metrics (a run without iBOT or KoLeo has no such column). */
export function presentTerms(rows: readonly Readonly<Record<string, number>>[]): string[] {
  return LOSS_TERMS.filter((t) => rows.some((r) => r[t] !== undefined));
}

/** The rows of metrics.jsonl (one per iteration; the whole run, resumed parts included). */
export function readMetrics(metricsPath: string): Record<string, number>[] {
  return readFileSync(metricsPath, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, number>);
}

/** The loss terms over iterations, one colour each, legend right of the axes. */
function drawLossCurve(metricsPath: string, out: string): void {
  const rows = readMetrics(metricsPath);
  lossCurvePng(
    presentTerms(rows).map((n) => ({
      name: n,
      x: rows.map((r) => r.iteration ?? Number.NaN),
      values: rows.map((r) => r[n] ?? Number.NaN),
    })),
    out,
    { width: 900, height: 450, title: "DINOv2 training losses", xLabel: "iteration" },
  );
}

/**
 * Input images next to the PCA of their patch features (first 3 components as RGB), one row per
 * image; written to `out` as PNG when given.
 */
export async function pcaPicture(
  runtime: Runtime,
  options: VitOptions,
  weights: ReadonlyMap<string, HostTensor>,
  images: LabeledImages,
  count: number,
  out?: string,
): Promise<RgbImage> {
  const n = Math.min(count, images.count);
  const per = 3 * images.side * images.side;
  const f = await extractFeatures(
    runtime,
    { model: new DinoVisionTransformer(options), weights, options },
    [images.images.subarray(0, n * per)],
    { batchSize: n, imageSize: images.side, withPatches: true },
  );
  const grid = images.side / options.patchSize;
  const cell = Math.max(1, Math.floor(112 / grid));
  const rows = [];
  for (let i = 0; i < n; i++) {
    const tokens = f.patches!.subarray(i * f.numPatches * f.dim, (i + 1) * f.numPatches * f.dim);
    const pca = pcaPatchPicture(tokens, grid, grid, { cellPx: cell });
    const img = imageFromChw(
      images.images.subarray(i * per, (i + 1) * per),
      images.side,
      images.side,
    );
    rows.push([upscaleNearest(img, Math.max(1, Math.round(pca.width / img.width))), pca]);
  }
  const pic = imageGrid(rows, { gapPx: 4 });
  if (out) writePng(out, pic.data, pic.width, pic.height);
  return pic;
}

export { loadLabeled };
