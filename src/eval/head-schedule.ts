// The learning-rate schedule of the official dense-head configs (mmcv PolyLrUpdaterHook with
// linear warmup): poly decay from the base to `min`, scaled up linearly during warmup.

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
