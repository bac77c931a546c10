import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config/resolve.js";
import { buildSchedules, cosineSchedule, scheduledValues } from "./schedules.js";

// Equal up to a few ulps: numpy's cos and Math.cos may round differently in the last bit.
function expectUlps(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * 4e-16 + 1e-300);
}

describe("cosineSchedule", () => {
  it("matches the official CosineScheduler value for value (numpy reference)", () => {
    // CosineScheduler(0.5, 0.01, 12, warmup_iters=4, start_warmup_value=0.1, freeze_iters=2)[0..12]
    const expected = [
      0.0, 0.0, 0.1, 0.23333333333333334, 0.3666666666666667, 0.5, 0.5, 0.4671762239271875, 0.3775,
      0.255, 0.13250000000000006, 0.04282377607281252, 0.01,
    ];
    const o = {
      base: 0.5,
      final: 0.01,
      totalIters: 12,
      warmupIters: 4,
      startWarmupValue: 0.1,
      freezeIters: 2,
    };
    for (const [i, v] of expected.entries()) expectUlps(cosineSchedule(i, o), v);
  });

  it("warms up linearly with both ends included, then follows the half cosine", () => {
    const o = { base: 1, final: 0, totalIters: 10, warmupIters: 4 };
    expect([0, 1, 2, 3].map((i) => cosineSchedule(i, o))).toEqual([0, 1 / 3, 2 / 3, 1]);
    expect(cosineSchedule(4, o)).toBe(1);
    expectUlps(cosineSchedule(7, o), 0.5); // halfway through the 6 cosine iterations
    expectUlps(cosineSchedule(9, o), 0.5 * (1 + Math.cos((5 * Math.PI) / 6)));
  });

  it("returns final at and after totalIters", () => {
    const o = { base: 1, final: 0.25, totalIters: 10 };
    expect(cosineSchedule(10, o)).toBe(0.25);
    expect(cosineSchedule(1_000_000, o)).toBe(0.25);
    expect(cosineSchedule(0, o)).toBe(1);
  });

  it("handles a one-iteration warmup and an empty schedule like numpy", () => {
    expect(
      cosineSchedule(0, {
        base: 1,
        final: 0,
        totalIters: 3,
        warmupIters: 1,
        startWarmupValue: 0.3,
      }),
    ).toBe(0.3);
    expect(cosineSchedule(0, { base: 1, final: 0.5, totalIters: 0 })).toBe(0.5);
  });

  it("refuses warmup longer than the schedule and invalid iterations", () => {
    expect(() =>
      cosineSchedule(0, { base: 1, final: 0, totalIters: 5, warmupIters: 4, freezeIters: 2 }),
    ).toThrow(
      "cosineSchedule: warmup and freeze exceed the schedule; got 4 + 2 iterations, expected <= totalIters 5",
    );
    expect(() => cosineSchedule(-1, { base: 1, final: 0, totalIters: 5 })).toThrow(
      "cosineSchedule: invalid iteration; got -1, expected an integer >= 0",
    );
    expect(() => cosineSchedule(1.5, { base: 1, final: 0, totalIters: 5 })).toThrow(RangeError);
  });
});

describe("buildSchedules (official defaults: 100 epochs x 1250, batch 64)", () => {
  const { cfg, derived } = resolveConfig();
  const s = buildSchedules(cfg, derived);

  it("warms the lr up from 0 over 10 epochs to 0.001, then decays to min_lr", () => {
    expect(s.lr(0)).toBe(0);
    expect(s.lr(1)).toBe(8.000640051204096e-8); // 0.001 / 12499
    expect(s.lr(6250)).toBe(0.000500040003200256);
    expect(s.lr(12_499)).toBe(0.001);
    expectUlps(s.lr(12_500), 0.001);
    expectUlps(s.lr(12_501), 0.0009999999998052398);
    expectUlps(s.lr(68_750), 0.0005005000000000001);
    expectUlps(s.lr(124_999), 1.0000001947602079e-6);
    expect(s.lr(125_000)).toBe(1e-6);
  });

  it("freezes the last layer for the first epoch only", () => {
    expect(s.lastLayerLr(0)).toBe(0);
    expect(s.lastLayerLr(1249)).toBe(0);
    expect(s.lastLayerLr(1250)).toBe(s.lr(1250));
    expect(s.lastLayerLr(1250)).toBeGreaterThan(0);
    expect(s.lastLayerLr(125_000)).toBe(1e-6);
  });

  it("moves weight decay 0.04 -> 0.4 and momentum 0.992 -> 1 along a cosine", () => {
    expectUlps(s.wd(0), 0.03999999999999998);
    expectUlps(s.wd(62_500), 0.22);
    expect(s.wd(125_000)).toBe(0.4);
    expectUlps(s.momentum(0), 0.992);
    expectUlps(s.momentum(62_500), 0.996);
    expectUlps(s.momentum(124_999), 0.9999999999987367);
    expect(s.momentum(125_000)).toBe(1);
  });

  it("warms the teacher temperature 0.04 -> 0.07 over 30 epochs, then holds it", () => {
    expect(s.teacherTemp(0)).toBe(0.04);
    expect(s.teacherTemp(1)).toBe(0.0400008000213339);
    expect(s.teacherTemp(18_750)).toBe(0.05500040001066696);
    expect(s.teacherTemp(37_499)).toBe(0.07);
    expect(s.teacherTemp(37_500)).toBe(0.07);
    expect(s.teacherTemp(124_999)).toBe(0.07);
  });

  it("collects all five values of one iteration", () => {
    expect(scheduledValues(s, 1250)).toEqual({
      lr: s.lr(1250),
      wd: s.wd(1250),
      momentum: s.momentum(1250),
      teacherTemp: s.teacherTemp(1250),
      lastLayerLr: s.lr(1250),
    });
  });
});

describe("buildSchedules on a short run", () => {
  it("keeps the last layer at 0 over the whole run when the freeze outlasts it, then min_lr", () => {
    const { cfg, derived } = resolveConfig({
      sets: [
        "train.OFFICIAL_EPOCH_LENGTH=2",
        "optim.epochs=2",
        "optim.warmup_epochs=1",
        "optim.freeze_last_layer_epochs=3",
      ],
    });
    const s = buildSchedules(cfg, derived);
    expect([0, 1, 2, 3].map(s.lastLayerLr)).toEqual([0, 0, 0, 0]);
    expect(s.lastLayerLr(4)).toBe(cfg.optim.min_lr);
    expect(s.lr(1)).toBe(derived.lr);
  });

  it("holds teacher_temp from the start when its warmup is 0 epochs", () => {
    const { cfg, derived } = resolveConfig({ sets: ["teacher.warmup_teacher_temp_epochs=0"] });
    expect(buildSchedules(cfg, derived).teacherTemp(0)).toBe(0.07);
  });
});
