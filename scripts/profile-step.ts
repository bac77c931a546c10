// Where a train step's time goes: runs the step of a preset (warm-up + N steps) under
// onnxruntime's profiler and prints a table of the node kinds by share of kernel time, split
// by the module path that starts each node's name (student / teacher forward, grad = backward,
// recompute, adamw, clip, ema, ...).
//   npx tsx scripts/profile-step.ts --preset vits14 --set train.batch_size_per_gpu=8 --steps 2
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fixedStepBatch } from "../bench/step-batch.js";
import { resolveConfig } from "../src/config/index.js";
import { createRng } from "../src/data/rng.js";
import { createRuntime } from "../src/runtime/index.js";
import { stepConfigFromTrain } from "../src/train/from-config.js";
import { buildSchedules, scheduledValues } from "../src/train/schedules.js";
import { initialState, nextState, stepFeeds } from "../src/train/state.js";
import { implFor, trainRuntimeOptions } from "../src/train/step-config.js";
import { buildTrainStep } from "../src/train/train-step.js";
import { timedKernels } from "./ort-profile.js";

const { values: v } = parseArgs({
  options: {
    preset: { type: "string", default: "vits14" },
    set: { type: "string", multiple: true, default: [] },
    steps: { type: "string", default: "2" },
    top: { type: "string", default: "20" },
  },
});
const resolved = resolveConfig({ preset: v.preset!, sets: v.set ?? [] });
const c = { ...stepConfigFromTrain(resolved), impl: implFor("cpu") };
const step = buildTrainStep(c);
const prefix = join(tmpdir(), `profile-step-${process.pid}`);
const runtime = await createRuntime({
  provider: "cpu",
  ...trainRuntimeOptions("cpu"),
  profilePrefix: prefix,
});
const exe = await runtime.compile(step.outputs);
const batch = await fixedStepBatch(resolved, c);
let state = initialState(step, { seed: 0 });
const sched = scheduledValues(buildSchedules(resolved.cfg, resolved.derived), 100);
const steps = Number(v.steps);
const wall: number[] = [];
for (let i = 0; i < steps + 1; i++) {
  const t = performance.now();
  state = nextState(
    step,
    state,
    await exe.run(stepFeeds(step, state, batch, sched, createRng(0).split(i))),
  );
  wall.push(performance.now() - t);
}
exe.endProfiling();
// The first run is a warm-up: keep the last `steps` runs' kernels.
const timed = timedKernels(`profile-step-${process.pid}`, Boolean(process.env.KEEP_PROFILE));
const total = timed.reduce((s, e) => s + e.dur, 0);
const PHASES = new Set([
  "grad",
  "recompute",
  "student",
  "teacher",
  "adamw",
  "clip",
  "ema",
  "losses",
]);
const byPhase = new Map<string, number>();
const byKind = new Map<string, { us: number; n: number }>();
for (const e of timed) {
  const op = e.args?.op_name ?? "?";
  // Node names are module paths: grad.*, recompute.*, student.*, teacher.*, adamw.*, clip.*, ...
  const head = e.name.split(/[./]/)[0]!;
  const phase = PHASES.has(head) ? head : "other";
  byPhase.set(phase, (byPhase.get(phase) ?? 0) + e.dur);
  const key = `${op} (${phase})`;
  const r = byKind.get(key) ?? { us: 0, n: 0 };
  byKind.set(key, { us: r.us + e.dur, n: r.n + 1 });
}
const rows = [...byKind.entries()].sort((a, b) => b[1].us - a[1].us);
const ms = (us: number) => (us / 1000 / steps).toFixed(0);
console.log(
  `${v.preset} ${(v.set ?? []).join(" ")}: ${steps} profiled steps, wall ${wall
    .slice(1)
    .map((w) => w.toFixed(0))
    .join(", ")} ms, kernel time ${ms(total)} ms/step`,
);
console.log(
  [...byPhase.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([p, us]) => `${p} ${ms(us)} ms (${((100 * us) / total).toFixed(0)}%)`)
    .join(", "),
);
console.log("| node kind (phase) | ms/step | share | nodes/step |\n| --- | --- | --- | --- |");
for (const [k, r] of rows.slice(0, Number(v.top))) {
  console.log(
    `| ${k} | ${ms(r.us)} | ${((100 * r.us) / total).toFixed(1)}% | ${Math.round(r.n / steps)} |`,
  );
}
