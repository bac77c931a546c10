// Training state on the host: every piece of state the step declares (student, teacher, AdamW
// moments, centers, ...) as named tensors; the feeds of one step and the state after it, all read
// from the step's signature.
import { type HostTensor, hostTensor } from "../core/index.js";
import type { SslBatch } from "../data/collate.js";
import type { Rng } from "../data/rng.js";
import { initWeights } from "../models/backbone.js";
import { sampleDropMask, sampleDropRows } from "./drop-path.js";
import type { ScheduledValues } from "./schedules.js";
import { batchFeeds, scalarFeeds } from "./step-batch.js";
import type { TrainStepGraph } from "./train-step.js";

export interface TrainState {
  /** Iterations completed; the next step is iteration `iteration`. */
  readonly iteration: number;
  /** Every state input of the step, by name (`student.*`, `teacher.*`, `adam.m.*`, ...). */
  readonly tensors: ReadonlyMap<string, HostTensor>;
}

export interface InitialWeights {
  /** Student weights: a random initialisation from `seed`, or these tensors by key. */
  readonly seed?: number;
  readonly student?: ReadonlyMap<string, HostTensor>;
  /** Weights of state declared `given` (a frozen teacher), by parameter key. */
  readonly given?: ReadonlyMap<string, HostTensor>;
}

/**
 * The state before the first step: the student from `seed` (or `student`); an EMA teacher and a
 * student EMA start equal to it; moments and centers at zero; given state from `given`.
 */
export function initialState(step: TrainStepGraph, w: InitialWeights): TrainState {
  const student = w.student ?? initWeights(step.student, w.seed ?? 0);
  const t = new Map<string, HostTensor>();
  for (const spec of step.signature.inputsOf("state")) {
    const init = spec.init!;
    let v: HostTensor;
    if (init.kind === "zeros") v = hostTensor("float32", spec.shape);
    else {
      const src = init.kind === "param" ? student : w.given;
      const from = init.kind === "param" ? "the student weights" : "the given weights";
      v = step.signature.check(spec.name, src?.get(init.key), `${from} (key "${init.key}")`);
      v = hostTensor("float32", v.shape, (v.data as Float32Array).slice());
    }
    t.set(spec.name, v);
  }
  return { iteration: 0, tensors: t };
}

/** Every feed of the step graph for iteration `state.iteration`, checked against the signature. */
export function stepFeeds(
  step: TrainStepGraph,
  state: TrainState,
  batch: SslBatch,
  sched: ScheduledValues,
  dropRng: Rng,
): Record<string, HostTensor> {
  const c = step.config;
  const sig = step.signature;
  const sources: Record<string, Readonly<Record<string, HostTensor>>> = {
    batch: batchFeeds(c, batch),
    schedule: scalarFeeds(c, sched, state.iteration),
    "drop-path": dropFeeds(step, dropRng),
    state: Object.fromEntries(state.tensors),
  };
  const what = { batch: "the batch", schedule: "the schedule", "drop-path": "the drop-path draw" };
  const feeds: Record<string, HostTensor> = {};
  for (const spec of sig.inputs) {
    const from =
      spec.role === "state" ? `training state (iteration ${state.iteration})` : what[spec.role];
    feeds[spec.name] = sig.check(spec.name, sources[spec.role]![spec.name], from);
  }
  return feeds;
}

/** The state after a step: each updated piece of state takes its output. */
export function nextState(
  step: TrainStepGraph,
  state: TrainState,
  outputs: Readonly<Record<string, HostTensor>>,
): TrainState {
  const t = new Map(state.tensors);
  for (const spec of step.signature.inputsOf("state")) {
    if (!spec.next) continue;
    const v = outputs[spec.next];
    if (!v) throw new Error(`the step did not return "${spec.next}"`);
    t.set(spec.name, v);
  }
  return { iteration: state.iteration + 1, tensors: t };
}

/** Kept rows (efficient stochastic depth) or keep masks, drawn from `rng`, per drop input. */
function dropFeeds(step: TrainStepGraph, rng: Rng): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const d of step.drop.inputs) {
    if (d.keepProb !== undefined) {
      const m = sampleDropMask(d, () => rng.uniform());
      feeds[d.name] = hostTensor("float32", [m.length, 1], m);
    } else {
      const rows = sampleDropRows(d, () => rng.uniform());
      feeds[d.name] = hostTensor("int64", [rows.length], rows);
    }
  }
  return feeds;
}
