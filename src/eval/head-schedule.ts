// The learning-rate schedule of the official dense-head configs (mmcv PolyLrUpdaterHook with
// linear warmup): poly decay from the base to `min`, scaled up linearly during warmup; and the
// AdamW (torch defaults) those heads train with, its lr and bias corrections fed every step.
import { type HostTensor, hostTensor, input } from "../core/index.js";
import type { AdamwHyper } from "../train/optimizer.js";

const BETA1 = 0.9;
const BETA2 = 0.999;

/** The heads' AdamW: lr and bias corrections are graph inputs `lr`, `bc1`, `bc2`. */
export function headAdamw(weightDecay: number): AdamwHyper {
  return {
    lr: input("lr", []),
    weightDecay,
    beta1: BETA1,
    beta2: BETA2,
    eps: 1e-8,
    biasCorrection1: input("bc1", []),
    biasCorrection2: input("bc2", []),
  };
}

/** The feeds of headAdamw's inputs for 0-based step `t`. */
export function headAdamwFeeds(t: number, s: PolySchedule): Record<string, HostTensor> {
  return {
    lr: hostTensor("float32", [], [polyLr(t, s)]),
    bc1: hostTensor("float32", [], [1 - BETA1 ** (t + 1)]),
    bc2: hostTensor("float32", [], [1 - BETA2 ** (t + 1)]),
  };
}

export interface PolySchedule {
  readonly base: number;
  readonly iterations: number;
  /** mmseg configs: power 1.0, min_lr 0.0, warmup "linear" for 1500 iterations, ratio 1e-6. */
  readonly power?: number;
  readonly min?: number;
  readonly warmupIterations?: number;
  readonly warmupRatio?: number;
}

/**
 * The learning rate at 0-based iteration `t`: (base − min)(1 − t/T)^power + min, times
 * 1 − (1 − t/W)(1 − ratio) while t < W (mmcv's get_regular_lr and get_warmup_lr("linear")).
 * @example polyLr(0, { base: 1e-3, iterations: 40000, warmupIterations: 1500 }) // 1e-9
 */
export function polyLr(t: number, s: PolySchedule): number {
  const power = s.power ?? 1;
  const min = s.min ?? 0;
  const regular = (s.base - min) * (1 - t / s.iterations) ** power + min;
  const warmup = s.warmupIterations ?? 0;
  if (t >= warmup) return regular;
  const k = (1 - t / warmup) * (1 - (s.warmupRatio ?? 1e-6));
  return regular * (1 - k);
}
