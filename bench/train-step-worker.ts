// One train-step variant in its own process (so its peak RSS is its own): builds the step graph,
// runs warm-up + timed iterations on one fixed batch, prints one JSON line with every sample.
import { loadavg } from "node:os";
import { resolveConfig } from "../src/config/index.js";
import { createRng } from "../src/data/rng.js";
import { lowerToOnnx } from "../src/onnx/index.js";
import { createRuntime } from "../src/runtime/index.js";
import { stepConfigFromTrain } from "../src/train/from-config.js";
import { buildSchedules, scheduledValues } from "../src/train/schedules.js";
import { initialState, nextState, stepFeeds } from "../src/train/state.js";
import type { StepImpl } from "../src/train/step-config.js";
import { buildTrainStep } from "../src/train/train-step.js";
import { fixedStepBatch } from "./step-batch.js";

export interface WorkerSpec {
  preset: string;
  sets: string[];
  impl: StepImpl;
  /** Untimed steps first (session warm-up, first-run allocations). */
  warmup?: number;
  iters: number;
  buildOnly?: boolean;
  /** onnxruntime's CPU memory arena and memory-pattern planning (absent: onnxruntime's default, on). */
  memArena?: boolean;
  memPattern?: boolean;
}

const spec = JSON.parse(process.argv[2]!) as WorkerSpec;
const loadBefore = loadavg()[0];
const resolved = resolveConfig({ preset: spec.preset, sets: spec.sets });
const c = { ...stepConfigFromTrain(resolved), impl: spec.impl };
const t0 = performance.now();
const step = buildTrainStep(c);
const model = lowerToOnnx(step.outputs);
const buildS = (performance.now() - t0) / 1000;
if (spec.buildOnly) {
  process.stdout.write(
    `${JSON.stringify({ build_s: buildS, onnx_mib: model.bytes.length / 2 ** 20 })}\n`,
  );
  process.exit(0);
}
const exe = await (
  await createRuntime({
    provider: "cpu",
    ...(spec.memArena === undefined ? {} : { memArena: spec.memArena }),
    ...(spec.memPattern === undefined ? {} : { memPattern: spec.memPattern }),
  })
).load(model);
const batch = await fixedStepBatch(resolved, c);
let state = initialState(step, { seed: 0 });
const sched = scheduledValues(buildSchedules(resolved.cfg, resolved.derived), 100);
const warmup = spec.warmup ?? 1;
const times: number[] = [];
for (let i = 0; i < warmup + spec.iters; i++) {
  const feeds = stepFeeds(step, state, batch, sched, createRng(0).split(i));
  const s = performance.now();
  state = nextState(step, state, await exe.run(feeds));
  if (i >= warmup) times.push(performance.now() - s);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN;
process.stdout.write(
  `${JSON.stringify({
    build_s: buildS,
    samples_ms: times,
    step_ms_median: median,
    step_ms_min: sorted[0] ?? null,
    img_s: (c.batch * 1000) / median,
    peak_rss_gib: process.resourceUsage().maxRSS / 2 ** 20,
    loadavg: [loadBefore, loadavg()[0]],
  })}\n`,
);
