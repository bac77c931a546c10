// The efficient step (packed crops, subset stochastic depth) equals the plain formulation (one
// forward per crop size, masked drop path) where both are deterministic: at drop rate 0.
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { TINY_TRAIN_SETS } from "../../test/helpers/tiny-config.js";
import { resolveConfig } from "../config/index.js";
import { toNumbers } from "../core/index.js";
import { createSslLoader } from "../data/loader.js";
import { createRng } from "../data/rng.js";
import { augmentationFromTrain, stepConfigFromTrain } from "./from-config.js";
import { buildSchedules, scheduledValues } from "./schedules.js";
import { initialState, stepFeeds } from "./state.js";
import { buildTrainStep } from "./train-step.js";

const SETS = [
  ...TINY_TRAIN_SETS.filter((k) => k !== "student.depth=1"),
  "student.depth=2",
  "student.drop_path_rate=0",
];

describe("train step", () => {
  it("packed + efficient stochastic depth equals the plain step (drop rate 0)", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const c = stepConfigFromTrain(resolved);
    const loader = createSslLoader({
      dataset: { kind: "synthetic", seed: 1, length: 16, size: 32 },
      seed: 0,
      patchSize: 14,
      augmentation: augmentationFromTrain(resolved),
      batchSize: c.batch,
      numBatches: 1,
    });
    const batch = (await loader.next())!;
    await loader.close();
    const sched = scheduledValues(buildSchedules(resolved.cfg, resolved.derived), 5);
    const results = [];
    for (const efficient of [true, false]) {
      const step = buildTrainStep({ ...c, efficient });
      const exe = await (await testRuntime()).compile(step.outputs);
      const feeds = stepFeeds(step, c, initialState(step, c, 0), batch, sched, createRng(0));
      results.push(await exe.run(feeds));
    }
    const [a, b] = results;
    for (const key of Object.keys(a!)) {
      const x = toNumbers(a![key]!);
      const y = toNumbers(b![key]!);
      const scale = Math.max(1e-6, ...y.map(Math.abs));
      const err = Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
      expect(err / scale, key).toBeLessThan(1e-4);
    }
  });
});
