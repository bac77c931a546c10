// Training schedules as pure functions of the iteration. Port of CosineScheduler
// (dinov2/utils/utils.py) and build_schedulers (dinov2/train/train.py), value for value.
import type { Derived } from "../config/resolve.js";
import type { DeepReadonly, TrainConfig } from "../config/schema.js";

export interface CosineScheduleOptions {
  readonly base: number;
  readonly final: number;
  readonly totalIters: number;
  readonly warmupIters?: number;
  readonly startWarmupValue?: number;
  readonly freezeIters?: number;
}

/** A scalar schedule: iteration (0-based) -> value. */
export type Schedule = (iter: number) => number;

/** The five scheduled scalars of one iteration, as the train step consumes them. */
export interface ScheduledValues {
  readonly lr: number;
  readonly wd: number;
  readonly momentum: number;
  readonly teacherTemp: number;
  readonly lastLayerLr: number;
}

export type Schedules = { readonly [K in keyof ScheduledValues]: Schedule };

/**
 * The official CosineScheduler at one iteration: `freezeIters` zeros, then
 * numpy.linspace(startWarmupValue, base, warmupIters) (both ends included), then a half cosine from
 * base to final over the remaining iterations; any iteration >= totalIters gives `final`.
 * @example cosineSchedule(5, { base: 1, final: 0, totalIters: 10, warmupIters: 4 }) // 0.9330...
 */
export function cosineSchedule(iter: number, o: CosineScheduleOptions): number {
  const warmup = o.warmupIters ?? 0;
  const freeze = o.freezeIters ?? 0;
  checkOptions(o.totalIters, warmup, freeze);
  checkIter(iter);
  if (iter >= o.totalIters) return o.final;
  if (iter < freeze) return 0;
  if (iter < freeze + warmup)
    return linspaceAt(o.startWarmupValue ?? 0, o.base, warmup, iter - freeze);
  const n = o.totalIters - warmup - freeze;
  const i = iter - freeze - warmup;
  return o.final + 0.5 * (o.base - o.final) * (1 + Math.cos((Math.PI * i) / n));
}

/** The lr, wd, momentum, teacher-temperature and last-layer-lr schedules of build_schedulers. */
export function buildSchedules(cfg: DeepReadonly<TrainConfig>, derived: Derived): Schedules {
  const totalIters = derived.totalIters;
  const lr: CosineScheduleOptions = {
    base: derived.lr,
    final: cfg.optim.min_lr,
    totalIters,
    warmupIters: derived.warmupIters,
    startWarmupValue: 0,
  };
  const wd: CosineScheduleOptions = {
    base: cfg.optim.weight_decay,
    final: cfg.optim.weight_decay_end,
    totalIters,
  };
  const momentum: CosineScheduleOptions = {
    base: cfg.teacher.momentum_teacher,
    final: cfg.teacher.final_momentum_teacher,
    totalIters,
  };
  // total == warmup: a linear ramp, then `final` (== teacher_temp) for every later iteration.
  const teacherTemp: CosineScheduleOptions = {
    base: cfg.teacher.teacher_temp,
    final: cfg.teacher.teacher_temp,
    totalIters: derived.teacherTempWarmupIters,
    warmupIters: derived.teacherTempWarmupIters,
    startWarmupValue: cfg.teacher.warmup_teacher_temp,
  };
  for (const o of [lr, wd, momentum, teacherTemp])
    checkOptions(o.totalIters, o.warmupIters ?? 0, 0);
  const freezeIters = derived.freezeLastLayerIters;
  return {
    lr: (iter) => cosineSchedule(iter, lr),
    wd: (iter) => cosineSchedule(iter, wd),
    momentum: (iter) => cosineSchedule(iter, momentum),
    teacherTemp: (iter) => cosineSchedule(iter, teacherTemp),
    // Official: a copy of the lr schedule array with its first entries set to 0; past the end
    // of the array it returns min_lr like the lr schedule.
    lastLayerLr: (iter) => {
      const value = cosineSchedule(iter, lr);
      return iter < totalIters && iter < freezeIters ? 0 : value;
    },
  };
}

/** All five scheduled values at one iteration. */
export function scheduledValues(schedules: Schedules, iter: number): ScheduledValues {
  return {
    lr: schedules.lr(iter),
    wd: schedules.wd(iter),
    momentum: schedules.momentum(iter),
    teacherTemp: schedules.teacherTemp(iter),
    lastLayerLr: schedules.lastLayerLr(iter),
  };
}

// numpy.linspace(start, stop, num)[i] with endpoint=True: i * step + start, the last entry is
// exactly `stop`, and a zero step falls back to i / div * delta + start (numpy gh-5437).
function linspaceAt(start: number, stop: number, num: number, i: number): number {
  const div = num - 1;
  if (div <= 0) return start;
  if (i === div) return stop;
  const delta = stop - start;
  const step = delta / div;
  return step === 0 ? (i / div) * delta + start : i * step + start;
}

function checkOptions(totalIters: number, warmupIters: number, freezeIters: number): void {
  for (const [name, v] of [
    ["totalIters", totalIters],
    ["warmupIters", warmupIters],
    ["freezeIters", freezeIters],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`cosineSchedule: invalid ${name}; got ${v}, expected an integer >= 0`);
    }
  }
  if (warmupIters + freezeIters > totalIters) {
    throw new RangeError(
      `cosineSchedule: warmup and freeze exceed the schedule; got ${warmupIters} + ${freezeIters} iterations, expected <= totalIters ${totalIters}`,
    );
  }
}

function checkIter(iter: number): void {
  if (!Number.isInteger(iter) || iter < 0) {
    throw new RangeError(
      `cosineSchedule: invalid iteration; got ${iter}, expected an integer >= 0`,
    );
  }
}
