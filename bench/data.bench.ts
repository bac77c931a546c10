// The full multi-crop augmentation at the ViT-S/14 recipe (2x224 global + 8x96 local crops from
// 256x256 images, blur/solarize/colour as DataAugmentationDINO) on one thread: images/s per core.
import { createDataAugmentationDino } from "../src/data/augment.js";
import type { ImageRecord } from "../src/data/datasets/dataset.js";
import { openDataset } from "../src/data/datasets/dataset.js";
import { createRng } from "../src/data/rng.js";
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
    return {
      multicrop_img_s_per_core: 1000 / perImageMs,
      multicrop_ms_per_image: perImageMs,
      details: { images: IMAGES, image_px: 256, global: "2x224", local: "8x96", min_ms: t.minMs },
    };
  },
};
