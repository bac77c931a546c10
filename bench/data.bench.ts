// The full multi-crop augmentation at the ViT-S/14 recipe (2x224 global + 8x96 local crops from
// 256x256 images, blur/solarize/colour as DataAugmentationDINO) on one thread: images/s per core.
// Then the fraction of the training loop's wall time spent waiting for the loader, at the default
// worker count, for the demo (npm start) and for the ViT-S/14 recipe at batch 8 (DATA_VITS14=0
// leaves the latter out: it takes minutes per step on 2 cores).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_SETS } from "../src/cli/commands/demo.js";
import { resolveConfig } from "../src/config/index.js";
import { createDataAugmentationDino } from "../src/data/augment.js";
import type { ImageRecord } from "../src/data/datasets/dataset.js";
import { openDataset } from "../src/data/datasets/dataset.js";
import { createRng } from "../src/data/rng.js";
import { runTraining } from "../src/train/loop.js";
import { type Bench, timeIt } from "./harness.js";

const IMAGES = 16;

export const bench: Bench = {
  provider: "cpu",
  question: "How many images per second does one core turn into DINOv2 multi-crops?",
  run: async ({ log }) => {
    const ds = openDataset({ kind: "synthetic", seed: 1, length: IMAGES, size: 256 });
    const images: ImageRecord[] = [];
    for (let i = 0; i < IMAGES; i++) images.push((await ds.get(i))!);
    const augment = createDataAugmentationDino({
      globalCropsSize: 224,
      localCropsSize: 96,
      localCropsNumber: 8,
    });
    const root = createRng(0);
    let round = 0;
    const t = await timeIt(
      () => {
        round++;
        let n = 0;
        for (const [i, img] of images.entries())
          n += augment(img, root.split(round).split(i)).localCrops.length;
        return n;
      },
      { burnIn: 1, iters: 5 },
    );
    const perImageMs = t.medianMs / IMAGES;
    log(
      `median ${t.medianMs.toFixed(0)} ms for ${IMAGES} images (${perImageMs.toFixed(1)} ms each)`,
    );
    log("loader wait: demo (vits14-demo preset, 1 worker as `dinov2 demo`), 12 iterations");
    const demo = await loaderWait(
      resolveConfig({ preset: "vits14-demo", sets: [...DEMO_SETS] }),
      64,
      1,
      12,
    );
    log(`  ${JSON.stringify(demo)}`);
    const vits =
      process.env.DATA_VITS14 === "0"
        ? undefined
        : await loaderWait(
            resolveConfig({ preset: "vits14", sets: ["train.batch_size_per_gpu=8"] }),
            256,
            2,
            3,
          );
    if (vits) log(`  vits14: ${JSON.stringify(vits)}`);
    return {
      multicrop_img_s_per_core: 1000 / perImageMs,
      multicrop_ms_per_image: perImageMs,
      loader_wait_fraction_demo: demo.fraction,
      loader_wait_fraction_vits14: vits ? vits.fraction : "skipped: DATA_VITS14=0",
      details: {
        loader_demo: demo,
        ...(vits ? { loader_vits14: vits } : {}),
        images: IMAGES,
        image_px: 256,
        global: "2x224",
        local: "8x96",
        min_ms: t.minMs,
      },
    };
  },
};

/**
 * Runs the real training loop for `iters` iterations on the synthetic set and returns the share
 * of wall time spent in loader.next(), iteration 1 (compilation warm-up) left out.
 */
async function loaderWait(
  resolved: ReturnType<typeof resolveConfig>,
  imageSize: number,
  workers: number,
  iters: number,
) {
  const dir = mkdtempSync(join(tmpdir(), "loader-wait-"));
  try {
    const r = await runTraining({
      resolved,
      dataset: { kind: "synthetic", seed: 1, length: 100_000, size: imageSize },
      outputDir: dir,
      iters,
      workers,
    });
    const steady = r.history.slice(1);
    const wait = steady.reduce((s, h) => s + h.dataWaitSeconds, 0);
    const wall = steady.reduce((s, h) => s + h.secondsPerIter, 0);
    return {
      fraction: wait / wall,
      wait_s: wait,
      wall_s: wall,
      iterations: steady.length,
      workers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
