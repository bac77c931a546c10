// `dinov2 eval-seg`: linear semantic segmentation on frozen features (the paper's "lin." and "+ms"
// rows): BNHead trained on cached patch features, mIoU / per-class IoU / pixel accuracy on val.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSyntheticSegmentation, type SegDataset } from "../../data/datasets/dense.js";
import { openSegFolder, SEG_LAYOUTS } from "../../data/datasets/dense-folder.js";
import type { DenseFeatureSpec } from "../../eval/dense-features.js";
import { encodePng, imageFromChw, imageGrid } from "../../eval/png.js";
import { evaluateSegmentation, type SegEvalResult } from "../../eval/seg-eval.js";
import { trainSegHead } from "../../eval/seg-head.js";
import { defineCommand } from "../command.js";
import { denseBatches } from "../dense-data.js";
import {
  cacheWithProgress,
  captionRow,
  colourLabels,
  DENSE_FLAGS,
  denseSetup,
  stepProgress,
  writeOutputs,
} from "../dense-eval.js";
import { pct } from "../eval-features.js";
import { choiceFlag, intFlag } from "../flag-values.js";
import { createProgressBar } from "../progress.js";
import { renderTable } from "../table.js";

/** The official +ms test-time scales (mmseg img_ratios), with flip. */
const MS_SCALES = [1.0, 1.32, 1.73, 2.28, 3.0];
const HEADS = ["lin", "ms"] as const;

export const evalSegCommand = defineCommand({
  name: "eval-seg",
  summary: "linear semantic segmentation on frozen features (official BNHead; lin. and +ms)",
  description: [
    "Trains the official BNHead (BatchNorm + 1×1 conv) on frozen patch features: `lin` uses the",
    "last block, `ms` the last 4 concatenated and is scored with multi-scale (1.0 … 3.0) + flip",
    "test-time augmentation. Logits are upsampled bilinearly to the labels; cross-entropy with",
    "ignore_index 255; AdamW, poly schedule with linear warmup (official: lr 1e-3, wd 1e-4,",
    "40,000 iterations, 1,500 warmup). Reports mIoU, per-class IoU and pixel accuracy.",
    "CPU simplifications (also in results.json): features are cached once at the eval transform",
    "(no training augmentation), images are resized (shorter side) and centre-cropped to",
    "--image-size for training and scoring, fewer iterations by default.",
    "--data synthetic: the built-in shapes with their exact masks (class 0 = background).",
    "Folder layouts: ade20k (images/ annotations/ {training,validation}), voc (JPEGImages/,",
    "SegmentationClass/, ImageSets/Segmentation/{train,val}.txt), pairs ({train,val}/{images,masks}",
    "+ classes.txt).",
  ].join("\n"),
  flags: {
    ...DENSE_FLAGS,
    layout: {
      type: "string",
      valueName: "NAME",
      description: `folder layout: ${SEG_LAYOUTS.join(", ")}`,
      default: "ade20k",
    },
    heads: {
      type: "string",
      valueName: "LIST",
      description: "which heads: lin, ms",
      default: "lin,ms",
    },
    "ms-scales": {
      type: "string",
      valueName: "LIST",
      description: "test scales of the ms head",
      default: MS_SCALES.join(","),
    },
    "num-classes": {
      type: "string",
      valueName: "K",
      description: "class count of the pairs layout without classes.txt",
    },
    pictures: {
      type: "string",
      valueName: "N",
      description: "val images in the picture grid",
      default: "6",
    },
  },
  examples: [
    "dinov2 eval-seg --model runs/demo/export/teacher_checkpoint.pth --data synthetic",
    "dinov2 eval-seg --model vits14 --random-weights --data synthetic --iterations 300",
    "dinov2 eval-seg --model dinov2_vits14_pretrain.pth --data ADEChallengeData2016 --layout ade20k",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const s = await denseSetup(v, "eval-seg", log);
    const heads = v.heads.split(",").map((h) => choiceFlag(h.trim(), "heads", HEADS));
    const scales = v["ms-scales"].split(",").map(Number);
    const layout = choiceFlag(v.layout, "layout", SEG_LAYOUTS);
    const open = (split: "train" | "val", seed: number, n: number): SegDataset =>
      s.synthetic
        ? createSyntheticSegmentation({ seed, length: n, size: s.side })
        : openSegFolder({
            root: v.data,
            layout,
            split,
            ...(v["num-classes"]
              ? { numClasses: intFlag(v["num-classes"], "num-classes", { min: 2 }) }
              : {}),
          });
    const train = open("train", 2001, s.trainSize);
    const val = open("val", 2002, s.valSize);
    const numClasses = train.classNames.length;
    const depth = s.backbone.options.depth;
    const results: Record<string, SegEvalResult> = {};
    const curves: { name: string; values: readonly number[] }[] = [];
    for (const head of heads) {
      const spec: DenseFeatureSpec = {
        layers:
          head === "lin"
            ? [depth - 1]
            : [depth - 4, depth - 3, depth - 2, depth - 1].filter((l) => l >= 0),
        norm: true,
        withCls: false,
      };
      const cache = await cacheWithProgress(
        s,
        train,
        spec,
        (x) => x.mask,
        s.trainSize,
        `${head} features`,
      );
      let trained: Awaited<ReturnType<typeof trainSegHead>>;
      try {
        const p = stepProgress(`${head} head`, s.iterations);
        trained = await trainSegHead(s.runtime, cache, {
          numClasses,
          iterations: s.iterations,
          batchSize: s.batchSize,
          lr: s.lr,
          weightDecay: s.weightDecay,
          warmupIterations: s.warmup,
          seed: s.seed,
          onStep: p.onStep,
        });
        p.finish();
      } finally {
        cache.release();
      }
      curves.push({ name: `${head} cross-entropy`, values: trained.losses });
      const total = Math.min(val.length, s.valSize);
      const bar = createProgressBar({ total, label: `${head} val`, unit: "img" });
      let done = 0;
      results[head] = await evaluateSegmentation(
        s.runtime,
        s.backbone,
        spec,
        trained.params,
        denseBatches(val, s.side, s.batchSize, (x) => x.mask, s.valSize),
        {
          side: s.side,
          batchSize: s.batchSize,
          ...(head === "ms" ? { scales, flip: true } : {}),
          previews: intFlag(v.pictures, "pictures", { min: 0 }),
          onBatch: (n) => {
            done += n;
            bar.update(done);
          },
        },
      );
      bar.finish();
    }
    if (train.skipped.length + val.skipped.length)
      log(`skipped ${train.skipped.length + val.skipped.length} unreadable image(s)`);
    const rows = heads.map((h) => {
      const r = results[h]!;
      return [
        h === "lin" ? "lin." : "+ms",
        pct(r.mIoU),
        pct(r.pixelAccuracy),
        pct(r.meanAccuracy),
        String(r.images),
      ];
    });
    ctx.out(renderTable([["head", "mIoU", "pixel acc", "mean acc", "val images"], ...rows]));
    const best = results[heads[heads.length - 1]!]!;
    ctx.out(
      renderTable([
        ["class", ...heads.map((h) => `IoU ${h}`)],
        ...train.classNames.map((name, k) => [
          name,
          ...heads.map((h) => fmtIoU(results[h]!.perClassIoU[k]!)),
        ]),
      ]),
    );
    const picture = join(s.outputDir, "predictions.png");
    const summary = Object.fromEntries(
      heads.map((h) => {
        const r = results[h]!;
        return [
          h,
          {
            mIoU: r.mIoU,
            pixel_accuracy: r.pixelAccuracy,
            mean_accuracy: r.meanAccuracy,
            per_class_iou: r.perClassIoU.map((x) => (Number.isNaN(x) ? null : x)),
            val_images: r.images,
          },
        ];
      }),
    );
    const files = writeOutputs(
      s.outputDir,
      {
        command: "eval-seg",
        model: s.modelDescription,
        data: s.synthetic ? "synthetic" : { root: v.data, layout },
        class_names: train.classNames,
        image_size: s.side,
        heads: summary,
        protocol: {
          head: "BNHead (BatchNorm + 1x1 conv), logits bilinearly upsampled, CE ignore_index 255 (mean over all pixels)",
          optimizer: { name: "AdamW", lr: s.lr, weight_decay: s.weightDecay, betas: [0.9, 0.999] },
          schedule: {
            poly_power: 1,
            min_lr: 0,
            warmup: "linear",
            warmup_iters: s.warmup,
            warmup_ratio: 1e-6,
            iterations: s.iterations,
          },
          batch_size: s.batchSize,
          ms_scales: scales,
          cpu_simplifications: [
            "features cached once at the eval transform: no training augmentation",
            "images resized (shorter side) and centre-cropped to image_size for training and scoring (official: full image, slide inference)",
            `iterations ${s.iterations} (official 40,000), warmup scaled by 1500/40000`,
          ],
        },
        train_images: Math.min(train.length, s.trainSize),
        skipped: [...train.skipped, ...val.skipped],
      },
      curves,
      "segmentation head training loss",
    );
    writeFileSync(
      picture,
      encodePng(
        imageGrid([
          captionRow(
            ["image", "ground truth", ...heads.map((h) => (h === "lin" ? "lin." : "+ms"))],
            s.side,
          ),
          ...best.previews.map((p, i) => [
            imageFromChw(p.pixels, s.side, s.side),
            colourLabels(p.target, s.side),
            ...heads.map((h) => colourLabels(results[h]!.previews[i]!.pred, s.side)),
          ]),
        ]),
      ),
    );
    ctx.out(
      JSON.stringify({
        ...Object.fromEntries(heads.map((h) => [`miou_${h}`, results[h]!.mIoU])),
        ...Object.fromEntries(heads.map((h) => [`pixel_acc_${h}`, results[h]!.pixelAccuracy])),
        files: { ...files, predictions: picture },
      }),
    );
    return 0;
  },
});

function fmtIoU(x: number): string {
  return Number.isNaN(x) ? "-" : pct(x);
}
