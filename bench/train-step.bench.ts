// One SSL training iteration at the ViT-S/14 recipe shapes (2x224 global + 8x98 local crops,
// 65,536 prototypes, drop path 0.3, batch 8) against the official code on PyTorch in the same run
// (../shared/reference/bench_torch.py vits14, when `import torch` works), with each variant of our
// step (activation recomputation, onnxruntime's memory arena, packing, efficient stochastic depth)
// in its own process. Variants are interleaved in rounds (ABC, CBA, ...), each process runs
// warm-up steps then timed ones; every sample, the median, the minimum and the load average are
// kept. Then the tiny preset of performance.md and the ViT-g/14 graph build time.
// Knobs (environment): TRAIN_STEP_ROUNDS (default 2), TRAIN_STEP_ITERS (timed steps per process,
// default 3), TRAIN_STEP_VARIANTS (comma list of variant names; default all), TRAIN_STEP_TORCH=0
// to leave PyTorch out, TRAIN_STEP_EXTRAS=0 to skip the tiny preset and the ViT-g/14 build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { implFor, trainRuntimeOptions } from "../src/train/step-config.js";
import { pythonWith } from "../test/helpers/torch-python.js";
import { type Bench, round3, summarise } from "./harness.js";
import type { WorkerSpec } from "./train-step-worker.js";

const here = dirname(fileURLToPath(import.meta.url));
const BATCH = 8;
const VITS14 = [`train.batch_size_per_gpu=${BATCH}`];
// performance.md's tiny SSL iteration: ViT 192/6/3, 2x112 + 6x56 crops, 4,096 prototypes, batch 64.
const TINY = [
  "student.arch=vit_tiny",
  "student.depth=6",
  "crops.global_crops_size=112",
  "crops.local_crops_size=56",
  "crops.local_crops_number=6",
  "dino.head_n_prototypes=4096",
  "ibot.head_n_prototypes=4096",
  "train.batch_size_per_gpu=64",
];
const TORCH_SCRIPT = join(here, "..", "..", "shared", "reference", "bench_torch.py");
const TORCH_PYTHON = pythonWith(["torch"]);

type Variant = Omit<WorkerSpec, "preset" | "sets" | "iters">;

const EFF = { packing: true, dropPath: "efficient" } as const;
const ALL = 0; // recompute every block

/** `default` is what a CPU user gets (implFor("cpu"), trainRuntimeOptions); the rest vary it. */
const VARIANTS: Readonly<Record<string, Variant>> = {
  default: { impl: implFor("cpu"), ...trainRuntimeOptions("cpu") },
  // The CPU default before 2026-11-28's packing measurement (packing on).
  packed: { impl: { ...EFF, recomputeBudgetGiB: ALL }, memArena: false },
  keep_all: { impl: EFF },
  budget_1gib: { impl: { ...EFF, recomputeBudgetGiB: 1 }, memArena: false },
  budget_2gib: { impl: { ...EFF, recomputeBudgetGiB: 2 }, memArena: false },
  recompute_arena: { impl: { ...EFF, recomputeBudgetGiB: ALL } },
  keep_no_arena: { impl: EFF, memArena: false },
  plain: { impl: { packing: false, dropPath: "mask", recomputeBudgetGiB: ALL }, memArena: false },
  packing_only: {
    impl: { packing: true, dropPath: "mask", recomputeBudgetGiB: ALL },
    memArena: false,
  },
};

interface Sample {
  readonly samplesMs: number[];
  readonly peakRssGib: number;
  readonly loadavg: number[];
  readonly buildS?: number;
}

function worker(spec: WorkerSpec): Record<string, unknown> {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(here, "train-step-worker.ts"), JSON.stringify(spec)],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`train-step worker failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

function torchAvailable(): boolean {
  if (process.env.TRAIN_STEP_TORCH === "0" || !existsSync(TORCH_SCRIPT)) return false;
  return TORCH_PYTHON !== undefined;
}

/** bench_torch.py vits14 (AVX-512 OpenBLAS kernels: OPENBLAS_CORETYPE/L2_SIZE unset). */
function torchStep(runs: number): Sample {
  const env: NodeJS.ProcessEnv = { ...process.env, RUNS: String(runs), TORCH_THREADS: "2" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const before = loadavg()[0]!;
  const r = spawnSync(TORCH_PYTHON!, [TORCH_SCRIPT, "vits14"], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`bench_torch.py vits14 failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  const j = JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
  const imgS = j.ssl_vits14_recipe_b8_img_s!;
  // The script reports the median of its runs; it stands for this round's sample.
  return {
    samplesMs: [(BATCH * 1000) / imgS],
    peakRssGib: j.peak_rss_gib!,
    loadavg: [before, loadavg()[0]!],
  };
}

export const bench: Bench = {
  provider: "cpu",
  question:
    "How fast is one DINOv2 training iteration at the ViT-S/14 recipe shapes, in how much memory, against the official code on PyTorch, and what does each implementation choice buy?",
  run: async ({ log }) => {
    const rounds = Number(process.env.TRAIN_STEP_ROUNDS ?? 2);
    const iters = Number(process.env.TRAIN_STEP_ITERS ?? 3);
    const chosen = process.env.TRAIN_STEP_VARIANTS?.split(",") ?? Object.keys(VARIANTS);
    for (const v of chosen) {
      if (!VARIANTS[v])
        throw new Error(
          `TRAIN_STEP_VARIANTS: unknown variant "${v}"; known: ${Object.keys(VARIANTS).join(", ")}`,
        );
    }
    const torch = torchAvailable();
    const names = [...chosen, ...(torch ? ["torch"] : [])];
    log(
      `${names.join(", ")}: ${rounds} rounds, ${iters} timed steps per process after 1 warm-up${torch ? "" : process.env.TRAIN_STEP_TORCH === "0" ? " (PyTorch left out: TRAIN_STEP_TORCH=0)" : " (PyTorch skipped: python3 cannot import torch)"}`,
    );
    const runs = new Map<string, Sample[]>(names.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const s: Sample =
          name === "torch"
            ? torchStep(iters)
            : (() => {
                const w = worker({ preset: "vits14", sets: VITS14, iters, ...VARIANTS[name]! });
                return {
                  samplesMs: w.samples_ms as number[],
                  peakRssGib: w.peak_rss_gib as number,
                  loadavg: w.loadavg as number[],
                  buildS: w.build_s as number,
                };
              })();
        runs.get(name)!.push(s);
        log(
          `  round ${round + 1} ${name}: ${s.samplesMs.map((m) => (m / 1000).toFixed(1)).join(", ")} s/step, peak ${s.peakRssGib.toFixed(2)} GiB, load ${s.loadavg.map((l) => l.toFixed(1)).join(" -> ")}`,
        );
      }
    }
    const figures: Record<string, number | string> = {};
    const details: Record<string, unknown> = { batch: BATCH, rounds, iters_per_process: iters };
    for (const [name, samples] of runs) {
      const t = summarise(samples.flatMap((s) => s.samplesMs));
      const peak = Math.max(...samples.map((s) => s.peakRssGib));
      const key =
        name === "torch"
          ? "torch_vits14_step"
          : name === "default"
            ? "vits14_step"
            : `vits14_step_${name}`;
      figures[`${key}_img_s`] = round3((BATCH * 1000) / t.medianMs);
      figures[`${key}_img_s_best`] = round3((BATCH * 1000) / t.minMs);
      figures[`${key}_peak_rss_gib`] = round3(peak);
      details[name] = {
        ...t,
        peak_rss_gib: samples.map((s) => round3(s.peakRssGib)),
        loadavg: samples.map((s) => s.loadavg),
      };
    }
    const built = runs.get("default")?.[0]?.buildS;
    if (built !== undefined) figures.vits14_step_graph_build_s = round3(built);
    if (torch && runs.has("default")) {
      figures.vits14_step_vs_torch = round3(
        (figures.vits14_step_img_s as number) / (figures.torch_vits14_step_img_s as number),
      );
      figures.vits14_step_rss_vs_torch = round3(
        (figures.vits14_step_peak_rss_gib as number) /
          (figures.torch_vits14_step_peak_rss_gib as number),
      );
    }
    if (!torch)
      figures.torch_vits14_step =
        process.env.TRAIN_STEP_TORCH === "0" ? "skipped: TRAIN_STEP_TORCH=0" : "skipped: no torch";
    if (process.env.TRAIN_STEP_EXTRAS !== "0") {
      log("tiny preset (performance.md), default");
      const tiny = worker({ preset: "vits14-demo", sets: TINY, iters, ...VARIANTS.default! });
      log("ViT-g/14 step graph build");
      const g = worker({
        preset: "vitg14",
        sets: VITS14,
        impl: EFF,
        iters: 0,
        buildOnly: true,
      });
      figures.tiny_step_img_s = round3(tiny.img_s as number);
      figures.tiny_step_peak_rss_gib = round3(tiny.peak_rss_gib as number);
      figures.vitg14_step_graph_build_s = round3(g.build_s as number);
      details.tiny = tiny;
      details.vitg14_build = g;
    }
    return { ...figures, details };
  },
};
