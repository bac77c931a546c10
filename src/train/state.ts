// Training state on the host: student, teacher, AdamW moments and centers as named tensors, and
// the feeds of one step built from the state, a batch, the schedules and the drop-path draw.
import { type HostTensor, hostTensor } from "../core/index.js";
import type { SslBatch } from "../data/collate.js";
import type { Rng } from "../data/rng.js";
import { initWeights } from "../models/backbone.js";
import { sampleDropMask, sampleDropRows } from "./drop-path.js";
import type { ScheduledValues } from "./schedules.js";
import type { StepConfig, TrainStepGraph } from "./train-step.js";

export interface TrainState {
  /** Iterations completed; the next step is iteration `iteration`. */
  readonly iteration: number;
  /** `student.*`, `teacher.*`, `adam.m.*`, `adam.v.*`, `dinoCenter`, `ibotCenter`. */
  readonly tensors: ReadonlyMap<string, HostTensor>;
}

/** Student initialised from `seed`; the teacher starts equal to it; moments and centers at zero. */
export function initialState(step: TrainStepGraph, c: StepConfig, seed: number): TrainState {
  const w = initWeights(step.student, seed);
  const t = new Map<string, HostTensor>();
  for (const key of step.paramKeys) {
    const p = w.get(key)!;
    t.set(`student.${key}`, p);
    t.set(`teacher.${key}`, hostTensor("float32", p.shape, (p.data as Float32Array).slice()));
    t.set(`adam.m.${key}`, hostTensor("float32", p.shape));
    t.set(`adam.v.${key}`, hostTensor("float32", p.shape));
  }
  t.set("dinoCenter", hostTensor("float32", [1, c.arch.dinoHead.outDim]));
  t.set("ibotCenter", hostTensor("float32", [1, 1, (c.arch.ibotHead ?? c.arch.dinoHead).outDim]));
  return { iteration: 0, tensors: t };
}

/** Every feed of the step graph for iteration `state.iteration`. */
export function stepFeeds(
  step: TrainStepGraph,
  c: StepConfig,
  state: TrainState,
  batch: SslBatch,
  sched: ScheduledValues,
  dropRng: Rng,
): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = Object.fromEntries(state.tensors);
  const g = batch.globalCropsSize;
  const l = batch.localCropsSize;
  const b = c.batch;
  if (batch.upperbound > c.upperbound || batch.batchSize !== b) {
    throw new Error(
      `batch does not fit the step graph: batch ${batch.batchSize} (graph ${b}), upperbound ${batch.upperbound} (graph ${c.upperbound})`,
    );
  }
  feeds.globalCrops = hostTensor("float32", [2 * b, 3, g, g], batch.globalCrops);
  if (c.nLocal > 0)
    feeds.localCrops = hostTensor("float32", [c.nLocal * b, 3, l, l], batch.localCrops);
  feeds.masks = hostTensor("bool", [2 * b, batch.nPatches], batch.masks);
  const u = c.upperbound;
  const idx = new BigInt64Array(u);
  const wts = new Float32Array(u);
  const valid = new Float32Array(u);
  for (let i = 0; i < batch.nMaskedPatches; i++) {
    idx[i] = BigInt(batch.maskIndices[i]!);
    wts[i] = batch.maskWeights[i]!;
    valid[i] = 1;
  }
  feeds.maskIndices = hostTensor("int64", [u], idx);
  feeds.maskWeights = hostTensor("float32", [u], wts);
  feeds.maskValid = hostTensor("float32", [u], valid);
  feeds.nMasked = hostTensor("float32", [], [Math.max(batch.nMaskedPatches, 1)]);
  const t = state.iteration + 1;
  const scalars = {
    lr: sched.lr,
    lastLayerLr: sched.lastLayerLr,
    wd: sched.wd,
    momentum: sched.momentum,
    teacherTemp: sched.teacherTemp,
    bc1: 1 - c.adamwBetas[0] ** t,
    bc2: 1 - c.adamwBetas[1] ** t,
  };
  for (const [k, v] of Object.entries(scalars)) feeds[k] = hostTensor("float32", [], [v]);
  for (const d of step.drop.inputs) {
    if (d.keepProb !== undefined) {
      const m = sampleDropMask(d, () => dropRng.uniform());
      feeds[d.name] = hostTensor("float32", [m.length, 1], m);
    } else {
      const rows = sampleDropRows(d, () => dropRng.uniform());
      feeds[d.name] = hostTensor("int64", [rows.length], rows);
    }
  }
  return feeds;
}

/** The state after a step: every `new.<name>` output replaces `<name>`. */
export function nextState(
  state: TrainState,
  outputs: Readonly<Record<string, HostTensor>>,
): TrainState {
  const t = new Map(state.tensors);
  for (const [name, v] of Object.entries(outputs))
    if (name.startsWith("new.")) t.set(name.slice(4), v);
  return { iteration: state.iteration + 1, tensors: t };
}
