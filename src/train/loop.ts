// The host loop, boring on purpose: batch -> feeds -> one graph run -> metrics -> checkpoint/eval.
// Port of the loop in dinov2/train/train.py (do_train).
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ResolvedConfig, saveResolvedConfig } from "../config/index.js";
import type { HostTensor } from "../core/index.js";
import { shapesEqual, toNumbers } from "../core/index.js";
import type { DatasetSpec } from "../data/datasets/dataset.js";
import { createSslLoader } from "../data/loader.js";
import { createRng } from "../data/rng.js";
import {
  archMetadata,
  CheckpointError,
  loadCheckpoint,
  readSafetensorsFile,
  readSafetensorsMetadata,
} from "../io/index.js";
import { createRuntime, type Provider } from "../runtime/index.js";
import { loadCheckpointForResume, saveCheckpoint } from "./checkpoint.js";
import { allPatchesBatch, distillOptionsFrom, distillStepConfig } from "./distill.js";
import { sslLoaderOptions, stepConfigFromTrain } from "./from-config.js";
import { initFromCheckpoint } from "./high-res.js";
import { buildSchedules, scheduledValues } from "./schedules.js";
import type { SslNetwork } from "./ssl-teacher.js";
import { initialState, nextState, stepFeeds, type TrainState } from "./state.js";
import { implFor, type StepImpl, trainRuntimeOptions } from "./step-config.js";
import { buildTrainStep, STATE, type TrainStepGraph } from "./train-step.js";

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
  /** Start from this training checkpoint's whole state and iteration (MODEL.WEIGHTS). */
  readonly modelWeights?: string;
  /** Load these backbone weights into student and teacher first (student.pretrained_weights). */
  readonly pretrainedWeights?: string;
  /** Distill from this frozen network (see distill.ts); options from `distillation.*`. */
  readonly distillTeacher?: SslNetwork;
  readonly workers?: number;
  readonly provider?: Provider;
  readonly threads?: number;
  /** How the step is computed (default implFor(provider)); every choice gives the same numbers. */
  readonly impl?: StepImpl;
  /** onnxruntime's CPU memory arena (default trainRuntimeOptions(provider)). */
  readonly memArena?: boolean;
  readonly checkpointEvery?: number;
  readonly evalEvery?: number;
  /** Periodic evaluation of the teacher (do_test); its numbers join the metrics. */
  readonly evaluate?: (state: TrainState, iteration: number) => Promise<Record<string, number>>;
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
  /** Of secondsPerIter, the time spent waiting for the loader's batch. */
  readonly dataWaitSeconds: number;
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
  const provider = o.provider ?? "cpu";
  const distill = o.distillTeacher ? distillOptionsFrom(o.resolved) : undefined;
  const pretrain = { ...stepConfigFromTrain(o.resolved), impl: o.impl ?? implFor(provider) };
  const c =
    o.distillTeacher && distill ? distillStepConfig(pretrain, o.distillTeacher, distill) : pretrain;
  const step = buildTrainStep(c);
  const runtime = await createRuntime({
    provider,
    ...trainRuntimeOptions(provider),
    ...(o.memArena !== undefined ? { memArena: o.memArena } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
  });
  const exe = await runtime.compile(step.outputs);
  const ckptDir = join(o.outputDir, "checkpoints");
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  let state = o.resume ? loadCheckpointForResume(ckptDir, log) : null;
  if (!state && o.modelWeights) state = loadStateFile(o.modelWeights, step);
  if (!state) {
    let fresh = initialState(step, {
      seed: cfg.train.seed,
      ...(o.distillTeacher ? { given: o.distillTeacher.weights } : {}),
    });
    if (o.pretrainedWeights) fresh = withPretrainedBackbone(fresh, o.pretrainedWeights);
    state = o.initFrom ? await initFromCheckpoint(o.initFrom, fresh, c, runtime) : fresh;
  }
  const resumedFrom = state.iteration;
  const total = Math.min(o.iters ?? derived.totalIters, derived.totalIters);
  const schedules = buildSchedules(cfg, derived);
  const loader = createSslLoader({
    ...sslLoaderOptions(o.resolved),
    dataset: o.dataset,
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
      const next = await loader.next();
      if (!next) break;
      const dataWaitSeconds = (performance.now() - t0) / 1000;
      const batch = distill?.ibotAllPatches ? allPatchesBatch(next) : next;
      const sched = scheduledValues(schedules, it);
      const out = await exe.run(stepFeeds(step, state, batch, sched, root.split(it)));
      const losses = lossValues(out, it);
      state = nextState(step, state, out);
      const done = state.iteration;
      let evalResult: Record<string, number> | undefined;
      if (o.evaluate && o.evalEvery && (done % o.evalEvery === 0 || done === total)) {
        evalResult = await o.evaluate(state, done);
      }
      const report: StepReport = {
        iteration: done,
        totalIters: total,
        losses,
        lr: sched.lr,
        secondsPerIter: (performance.now() - t0) / 1000,
        dataWaitSeconds,
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

const LOSS_PREFIX = "loss.";

/**
 * A training state written by saveCheckpoint, as the start of a new run (MODEL.WEIGHTS, as
 * fvcore's resume_or_load: weights, moments, centers and iteration). Every state tensor the step
 * declares must be there with its shape.
 */
export function loadStateFile(path: string, step: TrainStepGraph): TrainState {
  const tensors = readSafetensorsFile(path);
  const iteration = Number(readSafetensorsMetadata(path).iteration ?? Number.NaN);
  if (!Number.isInteger(iteration))
    throw new CheckpointError(
      path,
      "has no iteration in its metadata; it is not a training checkpoint written by dinov2 train",
      {
        hint: "for backbone weights use student.pretrained_weights or --init-from",
      },
    );
  for (const spec of step.signature.inputsOf("state")) {
    const t = tensors.get(spec.name);
    if (!t || !shapesEqual(t.shape, spec.shape))
      throw new CheckpointError(
        path,
        t
          ? `shape [${t.shape}] does not fit the model's [${spec.shape}]`
          : "missing from the training state",
        { key: spec.name },
      );
  }
  return { iteration, tensors };
}

/**
 * `state` with the student and teacher backbones replaced by the weights at `path` (any
 * checkpoint loadCheckpoint reads), as SSLMetaArch loads student.pretrained_weights into the
 * student and then copies the student into the teacher. Heads and moments are kept.
 */
export function withPretrainedBackbone(state: TrainState, path: string): TrainState {
  const { stateDict, file } = loadCheckpoint(path);
  const out = new Map(state.tensors);
  for (const prefix of [STATE.student, STATE.teacher]) {
    const bb = `${prefix}backbone.`;
    for (const [name, init] of state.tensors) {
      if (!name.startsWith(bb)) continue;
      const key = name.slice(bb.length);
      const w = stateDict.get(key);
      if (!w || !shapesEqual(w.shape, init.shape))
        throw new CheckpointError(
          file,
          w
            ? `shape [${w.shape}] does not fit the student's [${init.shape}]`
            : "missing; the student backbone needs it",
          {
            key,
            hint: "student.pretrained_weights must hold a backbone of the student's architecture",
          },
        );
      out.set(name, w);
    }
  }
  return { ...state, tensors: out };
}

/**
 * The network a run produces, as a state prefix: the student EMA when the run keeps one
 * (distillation), else the teacher.
 */
export function resultPrefix(state: TrainState): string {
  const ema = `${STATE.studentEma}backbone.cls_token`;
  return state.tensors.has(ema) ? STATE.studentEma : STATE.teacher;
}

/** The backbone a run produces (see resultPrefix) under the official state_dict keys. */
export function resultBackbone(state: TrainState): Map<string, HostTensor> {
  return backboneUnder(state, resultPrefix(state));
}

/** The teacher backbone under the official state_dict keys. */
export function teacherBackbone(state: TrainState): Map<string, HostTensor> {
  return backboneUnder(state, STATE.teacher);
}

function backboneUnder(state: TrainState, net: string): Map<string, HostTensor> {
  const prefix = `${net}backbone.`;
  return new Map(
    [...state.tensors]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

/** The reported losses of one step (`loss.*` outputs); a NaN or infinite term stops the run. */
export function lossValues(
  out: Readonly<Record<string, HostTensor>>,
  iteration: number,
): Record<string, number> {
  const losses: Record<string, number> = {};
  for (const [key, t] of Object.entries(out)) {
    if (!key.startsWith(LOSS_PREFIX)) continue;
    const name = key.slice(LOSS_PREFIX.length);
    const v = toNumbers(t)[0]!;
    if (!Number.isFinite(v)) {
      throw new TrainingDivergedError(
        `iteration ${iteration}: loss term ${name} is ${v}; stopping (the last checkpoint is intact)`,
      );
    }
    losses[name] = v;
  }
  return losses;
}
