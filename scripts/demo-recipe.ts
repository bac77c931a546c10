// One demo recipe measured: trains like `dinov2 demo` with extra --set overrides and prints one
// JSON line: k-NN top-1 (k=20) of the teacher at each evaluation, of the random init, and the
// median seconds per iteration (evaluation steps excluded). Used to choose the demo's recipe; the
// k-NN numbers are deterministic for a seed, the timings are only comparable within one session.
// `--eval-every 0` skips the k-NN (a throughput check only).
//   npx tsx scripts/demo-recipe.ts --iters 500 --set optim.base_lr=0.04 [--set ...]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { demoKnnSets, demoResolved, demoStepChoices } from "../src/cli/commands/demo.js";
import { knnMonitor } from "../src/cli/knn-monitor.js";
import { stepChoicesFromFlags } from "../src/cli/step-flags.js";
import { createBackbone } from "../src/models/backbone.js";
import { createRuntime } from "../src/runtime/index.js";
import { stepConfigFromTrain } from "../src/train/from-config.js";
import { runTraining, teacherBackbone } from "../src/train/loop.js";
import type { TrainState } from "../src/train/state.js";

const { values: v } = parseArgs({
  options: {
    iters: { type: "string", default: "500" },
    "eval-every": { type: "string", default: "100" },
    set: { type: "string", multiple: true, default: [] },
    threads: { type: "string" },
    // As `dinov2 train --recompute GIB|none --mem-arena on|off`; default: the demo's choice.
    recompute: { type: "string" },
    "mem-arena": { type: "string" },
    // "on" | "off": one packed sequence for all crops, or one forward per crop size.
    packing: { type: "string" },
  },
});
const iters = Number(v.iters);
// The demo's step, then the flags' memory choices, then --packing.
const chosen = { ...demoStepChoices("cpu"), ...stepChoicesFromFlags(v, "cpu") };
const step = {
  ...chosen,
  impl: v.packing === undefined ? chosen.impl : { ...chosen.impl, packing: v.packing === "on" },
};
const none = { images: new Float32Array(0), labels: new Int32Array(0), count: 0, side: 0 };
const EMPTY = { index: none, queries: none };
const resolved = demoResolved(iters, v.set ?? []);
const c = stepConfigFromTrain(resolved);
const { index, queries } = Number(v["eval-every"]) > 0 ? await demoKnnSets(resolved) : EMPTY;
const threads = v.threads ? Number(v.threads) : undefined;
const runtime = await createRuntime({ provider: "cpu", ...(threads ? { threads } : {}) });
const monitor = knnMonitor(runtime, c.arch.backbone, index, queries);
const evalEvery = Number(v["eval-every"]);
const random =
  evalEvery > 0
    ? await monitor(createBackbone(c.arch.backbone, resolved.cfg.train.seed).weights)
    : {};
const knn: Record<number, number> = {};
const secs: number[] = [];
const t0 = performance.now();
await runTraining({
  resolved,
  dataset: { kind: "synthetic", seed: 1, length: 1_000_000, size: 64 },
  outputDir: mkdtempSync(join(tmpdir(), "demo-recipe-")),
  iters,
  workers: 1,
  ...step,
  ...(threads ? { threads } : {}),
  ...(evalEvery > 0
    ? {
        evalEvery,
        evaluate: async (state: TrainState, it: number) => {
          const r = await monitor(teacherBackbone(state));
          knn[it] = r.knn_top1_k20!;
          return r;
        },
      }
    : {}),
  onStep: (s) => {
    if (!s.eval) secs.push(s.secondsPerIter);
    if (s.eval) process.stderr.write(`${s.iteration}: ${JSON.stringify(s.eval)}\n`);
  },
});
const sorted = secs.slice(2).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    sets: v.set,
    recompute: v.recompute ?? "default",
    arena: v["mem-arena"] ?? "default",
    packing: v.packing ?? "default",
    iters,
    knn_random: random.knn_top1_k20,
    knn,
    median_s_per_it: sorted[sorted.length >> 1],
    wall_s: (performance.now() - t0) / 1000,
    load: (await import("node:os")).loadavg(),
  }),
);
