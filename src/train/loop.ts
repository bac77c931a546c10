// The host loop, boring on purpose: batch -> feeds -> one graph run -> metrics -> checkpoint/eval.
// Port of the loop in dinov2/train/train.py (do_train).
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ResolvedConfig, saveResolvedConfig } from "../config/index.js";
import type { HostTensor } from "../core/index.js";
import { toNumbers } from "../core/index.js";
import type { DatasetSpec } from "../data/datasets/dataset.js";
import { createSslLoader } from "../data/loader.js";
import { createRng } from "../data/rng.js";
import { archMetadata } from "../io/index.js";
import { createRuntime, type Provider } from "../runtime/index.js";
import { loadCheckpointForResume, saveCheckpoint } from "./checkpoint.js";
import { augmentationFromTrain, stepConfigFromTrain } from "./from-config.js";
import { initFromCheckpoint } from "./high-res.js";
import { buildSchedules, scheduledValues } from "./schedules.js";
import { initialState, nextState, stepFeeds, type TrainState } from "./state.js";
import { buildTrainStep, LOSS_NAMES } from "./train-step.js";

export interface TrainRunOptions {
  readonly resolved: ResolvedConfig;
  readonly dataset: DatasetSpec;
  readonly outputDir: string;
  /** Stop once this many iterations are done (default: the schedule's total). */
  readonly iters?: number;
  /** Continue from the newest checkpoint in outputDir/checkpoints when there is one. */
  readonly resume?: boolean;
  /**
   * Start a new run from this checkpoint file's weights (the high-resolution phase: the global
   * crop size may differ; positional embeddings are interpolated). Ignored when resuming.
   */
  readonly initFrom?: string;
  readonly workers?: number;
  readonly provider?: Provider;
  readonly threads?: number;
  readonly checkpointEvery?: number;
  readonly evalEvery?: number;
  /** Periodic evaluation of the teacher backbone (official keys); its numbers join the metrics. */
  readonly evaluate?: (
    teacherBackbone: ReadonlyMap<string, HostTensor>,
    iteration: number,
  ) => Promise<Record<string, number>>;
  readonly onStep?: (s: StepReport) => void;
  /** Notices (e.g. "--resume found no checkpoint, starting fresh"); default: standard error. */
  readonly log?: (s: string) => void;
}

export interface StepReport {
  readonly iteration: number;
  readonly totalIters: number;
  readonly losses: Readonly<Record<string, number>>;
  readonly lr: number;
  readonly secondsPerIter: number;
  readonly eval?: Readonly<Record<string, number>>;
}

export interface TrainResult {
  readonly state: TrainState;
  readonly history: readonly StepReport[];
  readonly resumedFrom: number;
}

export class TrainingDivergedError extends Error {
  override readonly name = "TrainingDivergedError";
}

/** Trains until `iters`; writes config.json, metrics.jsonl and checkpoints under outputDir. */
export async function runTraining(o: TrainRunOptions): Promise<TrainResult> {
  const { cfg, derived } = o.resolved;
  mkdirSync(o.outputDir, { recursive: true });
  saveResolvedConfig(o.resolved, o.outputDir);
  const c = stepConfigFromTrain(o.resolved);
  const step = buildTrainStep(c);
  const runtime = await createRuntime({
    provider: o.provider ?? "cpu",
    ...(o.threads ? { threads: o.threads } : {}),
  });
  const exe = await runtime.compile(step.outputs);
  const ckptDir = join(o.outputDir, "checkpoints");
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  let state = o.resume ? loadCheckpointForResume(ckptDir, log) : null;
  if (!state) {
    const fresh = initialState(step, c, cfg.train.seed);
    state = o.initFrom ? await initFromCheckpoint(o.initFrom, fresh, c, runtime) : fresh;
  }
  const resumedFrom = state.iteration;
  const total = Math.min(o.iters ?? derived.totalIters, derived.totalIters);
  const schedules = buildSchedules(cfg, derived);
  const loader = createSslLoader({
    dataset: o.dataset,
    seed: cfg.train.seed,
    patchSize: derived.backbone.patchSize,
    augmentation: augmentationFromTrain(o.resolved),
    maskRatioMinMax: cfg.ibot.mask_ratio_min_max as [number, number],
    maskProbability: cfg.ibot.mask_sample_probability,
    batchSize: c.batch,
    workers: o.workers ?? 0,
    startBatch: state.iteration,
    numBatches: Math.max(0, total - state.iteration),
  });
  const metricsPath = join(o.outputDir, "metrics.jsonl");
  const history: StepReport[] = [];
  const root = createRng(cfg.train.seed).split("drop-path");
  try {
    while (state.iteration < total) {
      const it = state.iteration;
      const t0 = performance.now();
      const batch = await loader.next();
      if (!batch) break;
      const sched = scheduledValues(schedules, it);
      const out = await exe.run(stepFeeds(step, c, state, batch, sched, root.split(it)));
      const losses = lossValues(out, it);
      state = nextState(state, out);
      const done = state.iteration;
      let evalResult: Record<string, number> | undefined;
      if (o.evaluate && o.evalEvery && (done % o.evalEvery === 0 || done === total)) {
        evalResult = await o.evaluate(teacherBackbone(state), done);
      }
      const report: StepReport = {
        iteration: done,
        totalIters: total,
        losses,
        lr: sched.lr,
        secondsPerIter: (performance.now() - t0) / 1000,
        ...(evalResult ? { eval: evalResult } : {}),
      };
      history.push(report);
      appendFileSync(
        metricsPath,
        `${JSON.stringify({ iteration: done, ...sched, ...losses, ...(evalResult ?? {}) })}\n`,
      );
      if ((o.checkpointEvery && done % o.checkpointEvery === 0) || done === total) {
        saveCheckpoint(ckptDir, state, {
          seed: String(cfg.train.seed),
          ...archMetadata(c.arch.backbone),
        });
      }
      o.onStep?.(report);
    }
  } finally {
    await loader.close();
  }
  return { state, history, resumedFrom };
}

/** The teacher backbone under the official state_dict keys. */
export function teacherBackbone(state: TrainState): Map<string, HostTensor> {
  const prefix = "teacher.backbone.";
  return new Map(
    [...state.tensors]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

/** The reported losses of one step; a NaN or infinite term stops the run, naming it. */
export function lossValues(
  out: Readonly<Record<string, HostTensor>>,
  iteration: number,
): Record<string, number> {
  const losses: Record<string, number> = {};
  for (const name of LOSS_NAMES) {
    const v = toNumbers(out[`loss.${name}`]!)[0]!;
    if (!Number.isFinite(v)) {
      throw new TrainingDivergedError(
        `iteration ${iteration}: loss term ${name} is ${v}; stopping (the last checkpoint is intact)`,
      );
    }
    losses[name] = v;
  }
  return losses;
}
