// An ssl_step_* fixture as the step's production feeds: the official collate output as our
// SslBatch, the fixture's student as the initial state, its scheduled values, through stepFeeds.
import type { HostTensor } from "../../src/core/index.js";
import { toNumbers } from "../../src/core/index.js";
import type { SslBatch } from "../../src/data/collate.js";
import { createRng } from "../../src/data/rng.js";
import { initialState, stepFeeds } from "../../src/train/state.js";
import type { OfficialStepKeys } from "../../src/train/step-config.js";
import { STATE, type TrainStepGraph } from "../../src/train/train-step.js";

/** The fixture JSON's `config`: the official keys plus the iteration's scheduled values. */
export type StepFixtureKeys = OfficialStepKeys & {
  readonly lr: number;
  readonly last_layer_lr: number;
  readonly wd: number;
  readonly momentum: number;
  readonly teacher_temp: number;
};

type Fixture = ReadonlyMap<string, HostTensor>;

/** The fixture's `student.*` weights by parameter key. */
export function fixtureStudent(fx: Fixture): Map<string, HostTensor> {
  return new Map(
    [...fx]
      .filter(([key]) => key.startsWith(STATE.student))
      .map(([key, t]) => [key.slice(STATE.student.length), t]),
  );
}

/** Every feed of `step` for the fixture's iteration; `dropSeed` seeds the drop-path draws. */
export function fixtureFeeds(
  step: TrainStepGraph,
  fx: Fixture,
  k: StepFixtureKeys,
  dropSeed = 0,
): Record<string, HostTensor> {
  return stepFeeds(
    step,
    initialState(step, { student: fixtureStudent(fx) }),
    fixtureBatch(fx, k),
    {
      lr: k.lr,
      lastLayerLr: k.last_layer_lr,
      wd: k.wd,
      momentum: k.momentum,
      teacherTemp: k.teacher_temp,
    },
    createRng(dropSeed),
  );
}

/** The fixture's collated batch (official collate output) as our SslBatch. */
export function fixtureBatch(fx: Fixture, k: StepFixtureKeys): SslBatch {
  const get = (name: string) => {
    const t = fx.get(name);
    if (!t) throw new Error(`fixture lacks ${name}`);
    return t;
  };
  const g = get("in.global_crops");
  const idx = get("in.mask_indices");
  return {
    batchSize: k.batch_size,
    nGlobalCrops: 2,
    nLocalCrops: k.local_crops_number,
    globalCropsSize: k.global_crops_size,
    localCropsSize: k.local_crops_size,
    nPatches: (g.shape[2]! / k.patch_size) * (g.shape[3]! / k.patch_size),
    globalCrops: g.data as Float32Array,
    localCrops: (fx.get("in.local_crops")?.data as Float32Array | undefined) ?? new Float32Array(0),
    masks: Uint8Array.from(toNumbers(get("in.masks"))),
    maskIndices: Int32Array.from(toNumbers(idx)),
    maskWeights: Float32Array.from(toNumbers(get("in.masks_weight"))),
    nMaskedPatches: idx.data.length,
    upperbound: k.upperbound,
    labels: new Int32Array(k.batch_size).fill(-1),
  };
}
