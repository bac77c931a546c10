// The per-step data of the train step, declared once: the batch (crops, iBOT masks) and the
// scheduled scalars. Each is an interface whose keys are the graph input names; the graph side
// (`declareBatch`, `declareScalars`) and the host side (`batchFeeds`, `scalarFeeds`) are typed
// by the same keys, so a misspelled name does not compile.
import { type HostTensor, hostTensor, type Tensor } from "../core/index.js";
import type { SslBatch } from "../data/collate.js";
import type { ScheduledValues } from "./schedules.js";
import type { StepConfig } from "./step-config.js";
import type { StepSignature } from "./step-signature.js";

export interface StepBatch {
  readonly globalCrops: Tensor; // [2B, 3, G, G], crop-major
  readonly localCrops: Tensor | undefined; // [nL*B, 3, L, L], when local crops are used
  readonly masks: Tensor; // bool [2B, P]
  readonly maskIndices: Tensor; // int64 [U], padded
  readonly maskWeights: Tensor; // [U], 0 on padding
  readonly maskValid: Tensor; // [U], 1 on the n masked rows
  readonly nMasked: Tensor; // scalar
}

/** The scheduled values of one step, and AdamW's bias corrections for it. */
export interface StepScalars {
  readonly lr: Tensor;
  readonly lastLayerLr: Tensor;
  readonly wd: Tensor;
  readonly momentum: Tensor;
  readonly teacherTemp: Tensor;
  readonly bc1: Tensor; // 1 - beta1^t
  readonly bc2: Tensor; // 1 - beta2^t
  readonly backboneLrScale: Tensor; // 0 while the backbone is frozen (head warm-up), else 1
}

type Name<T> = keyof T & string;

/**
 * A record whose inputs are declared on first use: the graph takes exactly the inputs the
 * enabled terms read (with iBOT off, no mask indices; with a frozen teacher, no momentum).
 */
function lazyInputs<T extends object>(
  sig: StepSignature,
  role: "batch" | "schedule",
  specs: { readonly [K in Name<T>]: readonly [readonly number[], ("bool" | "int64")?] | null },
): T {
  const out = {} as T;
  for (const name of Object.keys(specs) as Name<T>[]) {
    const spec = specs[name];
    let t: Tensor | undefined;
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => {
        if (spec === null) return undefined;
        t ??= sig.input(role, name, spec[0], spec[1]);
        return t;
      },
    });
  }
  return out;
}

/** The batch inputs; local crops only when the step has local crops and uses them. */
export function declareBatch(sig: StepSignature, c: StepConfig, useLocal: boolean): StepBatch {
  const p = c.arch.backbone.patchSize;
  const gp = (c.globalSize / p) ** 2;
  return lazyInputs<StepBatch>(sig, "batch", {
    globalCrops: [[2 * c.batch, 3, c.globalSize, c.globalSize]],
    localCrops:
      useLocal && c.nLocal > 0 ? [[c.nLocal * c.batch, 3, c.localSize, c.localSize]] : null,
    masks: [[2 * c.batch, gp], "bool"],
    maskIndices: [[c.upperbound], "int64"],
    maskWeights: [[c.upperbound]],
    maskValid: [[c.upperbound]],
    nMasked: [[]],
  });
}

export function declareScalars(sig: StepSignature): StepScalars {
  return lazyInputs<StepScalars>(sig, "schedule", {
    lr: [[]],
    lastLayerLr: [[]],
    wd: [[]],
    momentum: [[]],
    teacherTemp: [[]],
    bc1: [[]],
    bc2: [[]],
    backboneLrScale: [[]],
  });
}

/** Host tensors of a collated batch, padded to the step's upperbound. */
export function batchFeeds(c: StepConfig, batch: SslBatch): Record<Name<StepBatch>, HostTensor> {
  const g = batch.globalCropsSize;
  const l = batch.localCropsSize;
  const b = c.batch;
  if (batch.upperbound > c.upperbound || batch.batchSize !== b) {
    throw new Error(
      `batch does not fit the step graph: batch ${batch.batchSize} (graph ${b}), upperbound ${batch.upperbound} (graph ${c.upperbound})`,
    );
  }
  const u = c.upperbound;
  const idx = new BigInt64Array(u);
  const wts = new Float32Array(u);
  const valid = new Float32Array(u);
  for (let i = 0; i < batch.nMaskedPatches; i++) {
    idx[i] = BigInt(batch.maskIndices[i]!);
    wts[i] = batch.maskWeights[i]!;
    valid[i] = 1;
  }
  return {
    globalCrops: hostTensor("float32", [2 * b, 3, g, g], batch.globalCrops),
    localCrops: hostTensor("float32", [batch.nLocalCrops * b, 3, l, l], batch.localCrops),
    masks: hostTensor("bool", [2 * b, batch.nPatches], batch.masks),
    maskIndices: hostTensor("int64", [u], idx),
    maskWeights: hostTensor("float32", [u], wts),
    maskValid: hostTensor("float32", [u], valid),
    nMasked: hostTensor("float32", [], [Math.max(batch.nMaskedPatches, 1)]),
  };
}

/** The scheduled scalars of iteration `iteration` (0-based), bias corrections for step t = it + 1. */
export function scalarFeeds(
  c: StepConfig,
  sched: ScheduledValues,
  iteration: number,
): Record<Name<StepScalars>, HostTensor> {
  const t = iteration + 1;
  const v = (x: number) => hostTensor("float32", [], [x]);
  return {
    lr: v(sched.lr),
    lastLayerLr: v(sched.lastLayerLr),
    wd: v(sched.wd),
    momentum: v(sched.momentum),
    teacherTemp: v(sched.teacherTemp),
    bc1: v(1 - c.adamwBetas[0] ** t),
    bc2: v(1 - c.adamwBetas[1] ** t),
    backboneLrScale: v(iteration < (c.freezeBackboneIters ?? 0) ? 0 : 1),
  };
}
