// One SSL training iteration at the ViT-S/14 recipe shapes (2x224 global + 8x98 local crops,
// 65,536 prototypes, drop path 0.3, batch 8) and at the tiny preset of performance.md, with the
// paper's efficient implementation and without it (one forward per crop size, masked drop path);
// plus the time to build, differentiate and serialise the ViT-S/14 and ViT-g/14 step graphs.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bench } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const VITS14 = ["train.batch_size_per_gpu=8"];
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

const EFFICIENT = { packing: true, dropPath: "efficient" };
const PLAIN = { packing: false, dropPath: "mask" };

function worker(spec: object): Record<string, number> {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(here, "train-step-worker.ts"), JSON.stringify(spec)],
    {
      encoding: "utf8",
      maxBuffer: 1 << 24,
    },
  );
  if (r.status !== 0) throw new Error(`train-step worker failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
}

export const bench: Bench = {
  provider: "cpu",
  question:
    "How fast is one DINOv2 training iteration, how much memory does it take, and what do packing and efficient stochastic depth buy?",
  run: async ({ log }) => {
    log("ViT-S/14 recipe shapes, efficient");
    const eff = worker({ preset: "vits14", sets: VITS14, impl: EFFICIENT, iters: 3 });
    log(`  ${JSON.stringify(eff)}`);
    log("ViT-S/14 recipe shapes, plain");
    const plain = worker({ preset: "vits14", sets: VITS14, impl: PLAIN, iters: 3 });
    log(`  ${JSON.stringify(plain)}`);
    log("ViT-S/14 recipe shapes, packing only (masked drop path)");
    const packOnly = worker({
      preset: "vits14",
      sets: VITS14,
      impl: { packing: true, dropPath: "mask" },
      iters: 3,
    });
    log(`  ${JSON.stringify(packOnly)}`);
    log("ViT-S/14 recipe shapes, efficient stochastic depth only (no packing)");
    const sdOnly = worker({
      preset: "vits14",
      sets: VITS14,
      impl: { packing: false, dropPath: "efficient" },
      iters: 3,
    });
    log(`  ${JSON.stringify(sdOnly)}`);
    log("tiny preset (performance.md), efficient");
    const tiny = worker({ preset: "vits14-demo", sets: TINY, impl: EFFICIENT, iters: 3 });
    log(`  ${JSON.stringify(tiny)}`);
    log("ViT-g/14 step graph build");
    const g = worker({
      preset: "vitg14",
      sets: ["train.batch_size_per_gpu=8"],
      impl: EFFICIENT,
      iters: 0,
      buildOnly: true,
    });
    log(`  ${JSON.stringify(g)}`);
    return {
      vits14_step_img_s: eff.img_s!,
      vits14_step_peak_rss_gib: eff.peak_rss_gib!,
      vits14_step_plain_img_s: plain.img_s!,
      vits14_step_plain_peak_rss_gib: plain.peak_rss_gib!,
      vits14_step_efficient_speedup: eff.img_s! / plain.img_s!,
      vits14_step_packing_only_img_s: packOnly.img_s!,
      vits14_step_packing_only_peak_rss_gib: packOnly.peak_rss_gib!,
      vits14_step_sd_only_img_s: sdOnly.img_s!,
      vits14_step_sd_only_peak_rss_gib: sdOnly.peak_rss_gib!,
      vits14_step_graph_build_s: eff.build_s!,
      vitg14_step_graph_build_s: g.build_s!,
      tiny_step_img_s: tiny.img_s!,
      tiny_step_peak_rss_gib: tiny.peak_rss_gib!,
      details: {
        vits14_efficient: eff,
        vits14_plain: plain,
        vits14_packing_only: packOnly,
        vits14_sd_only: sdOnly,
        tiny,
        vitg14_build: g,
        batch: 8,
      },
    };
  },
};
