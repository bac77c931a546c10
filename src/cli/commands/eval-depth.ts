// `dinov2 eval-depth`: linear monocular depth on frozen features (the paper's "lin. 1" / "lin. 4"
// rows): the official linear BNHead over 256 uniform bins, SigLoss, RMSE / abs rel / δ<1.25.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DepthDataset } from "../../data/datasets/dense.js";
import { openDepthFolder } from "../../data/datasets/dense-folder.js";
import { createSyntheticDepth, SYNTHETIC_MAX_DEPTH } from "../../data/datasets/synthetic-depth.js";
import { type DenseFeatureSpec, depthOutIndices } from "../../eval/dense-features.js";
import { type DepthEvalResult, evaluateDepth } from "../../eval/depth-eval.js";
import { trainDepthHead } from "../../eval/depth-head.js";
import { encodePng, imageFromChw, imageGrid } from "../../eval/png.js";
import { defineCommand } from "../command.js";
import { denseBatches } from "../dense-data.js";
import {
  cacheWithProgress,
  captionRow,
  colourDepth,
  DENSE_FLAGS,
  denseSetup,
  stepProgress,
  writeOutputs,
} from "../dense-eval.js";
import { pct } from "../eval-features.js";
import { choiceFlag, intFlag, positiveFlag } from "../flag-values.js";
import { createProgressBar } from "../progress.js";
import { renderTable } from "../table.js";
import { UsageError } from "../usage-error.js";

const HEADS = ["lin1", "lin4"] as const;

export const evalDepthCommand = defineCommand({
  name: "eval-depth",
  summary: "linear depth estimation on frozen features (official linear head; lin.1 and lin.4)",
  description: [
    "Trains the official linear depth head: per chosen block the patch map (no final norm) and the",
    "CLS token broadcast over it, ×4 bilinear upsampling, a 1×1 conv to 256 bins, relu + 0.1",
    "normalised over bins, depth = Σ p · linspace(min, max, 256). lin1 = the last block; lin4 = the",
    "official out indices (S/B [2,5,8,11], L [4,11,17,23], g [9,19,29,39]; other depths: 4 evenly",
    "spaced). Loss: SigLoss (optional warm-up form, optional MegaDepth GradientLoss). Reports RMSE,",
    "abs rel and δ<1.25 (also δ²,δ³) over pixels with min < gt < max, averaged per image.",
    "Note: the official hub helper ignores its min/max depth arguments (always 0.001–80); we use",
    "the values given. The official depth optimiser settings are not in the reference; ours are",
    "AdamW + poly as the segmentation configs. CPU simplifications as in eval-seg (results.json).",
    "--data synthetic: procedural scenes with exact depth (0–10 m). Folders: {train,val}/rgb/*",
    "with {train,val}/depth/<same stem>.png, 16-bit, value / --depth-scale = metres (NYU: 1000).",
  ].join("\n"),
  flags: {
    ...DENSE_FLAGS,
    heads: {
      type: "string",
      valueName: "LIST",
      description: "which heads: lin1, lin4",
      default: "lin1,lin4",
    },
    "min-depth": {
      type: "string",
      valueName: "M",
      description: "first bin (NYU/KITTI 0.001)",
      default: "0.001",
    },
    "max-depth": {
      type: "string",
      valueName: "M",
      description: "last bin (NYU 10, KITTI 80)",
      default: "10",
    },
    "depth-scale": {
      type: "string",
      valueName: "S",
      description: "16-bit PNG value per metre (NYU 1000, KITTI 256)",
      default: "1000",
    },
    "gradient-loss": {
      type: "string",
      valueName: "W",
      description: "weight of the GradientLoss added to SigLoss (0: off)",
      default: "0",
    },
    "sig-warmup": {
      type: "string",
      valueName: "N",
      description: "SigLoss warm-up iterations (official option: 100)",
      default: "0",
    },
    pictures: {
      type: "string",
      valueName: "N",
      description: "val images in the picture grid",
      default: "6",
    },
  },
  examples: [
    "dinov2 eval-depth --model runs/demo/export/teacher_checkpoint.pth --data synthetic",
    "dinov2 eval-depth --model dinov2_vits14_pretrain.pth --data nyu --depth-scale 1000 --max-depth 10",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const s = await denseSetup(v, "eval-depth", log);
    const heads = v.heads.split(",").map((h) => choiceFlag(h.trim(), "heads", HEADS));
    const minDepth = positiveFlag(v["min-depth"], "min-depth");
    const maxDepth = positiveFlag(v["max-depth"], "max-depth");
    if (!(minDepth > 0 && maxDepth > minDepth)) {
      throw new UsageError(`need 0 < --min-depth < --max-depth; got ${minDepth}, ${maxDepth}`, {
        flag: "--max-depth",
      });
    }
    if (s.synthetic && maxDepth < SYNTHETIC_MAX_DEPTH)
      log(`note: synthetic depths reach ${SYNTHETIC_MAX_DEPTH} m`);
    const scale = positiveFlag(v["depth-scale"], "depth-scale");
    const open = (split: "train" | "val", seed: number, n: number): DepthDataset =>
      s.synthetic
        ? createSyntheticDepth({ seed, length: n, size: s.side })
        : openDepthFolder({ root: v.data, split, scale });
    const train = open("train", 3001, s.trainSize);
    const val = open("val", 3002, s.valSize);
    const depth = s.backbone.options.depth;
    const results: Record<string, DepthEvalResult & { layers: readonly number[] }> = {};
    const curves: { name: string; values: readonly number[] }[] = [];
    for (const head of heads) {
      const spec: DenseFeatureSpec = {
        layers: head === "lin1" ? [depth - 1] : depthOutIndices(depth),
        norm: false,
        withCls: true,
      };
      const cache = await cacheWithProgress(
        s,
        train,
        spec,
        (x) => x.depth,
        s.trainSize,
        `${head} features`,
      );
      let trained: Awaited<ReturnType<typeof trainDepthHead>>;
      try {
        const p = stepProgress(`${head} head`, s.iterations);
        trained = await trainDepthHead(s.runtime, cache, {
          minDepth,
          maxDepth,
          iterations: s.iterations,
          batchSize: s.batchSize,
          lr: s.lr,
          weightDecay: s.weightDecay,
          warmupIterations: s.warmup,
          sigWarmupIterations: intFlag(v["sig-warmup"], "sig-warmup", { min: 0 }),
          gradientLossWeight: positiveFlag(v["gradient-loss"], "gradient-loss", true),
          seed: s.seed,
          onStep: p.onStep,
        });
        p.finish();
      } finally {
        cache.release();
      }
      curves.push({ name: `${head} loss`, values: trained.losses });
      const bar = createProgressBar({
        total: Math.min(val.length, s.valSize),
        label: `${head} val`,
        unit: "img",
      });
      let done = 0;
      const r = await evaluateDepth(
        s.runtime,
        s.backbone,
        spec,
        trained.params,
        denseBatches(val, s.side, s.batchSize, (x) => x.depth, s.valSize),
        {
          side: s.side,
          batchSize: s.batchSize,
          previews: intFlag(v.pictures, "pictures", { min: 0 }),
          onBatch: (n) => {
            done += n;
            bar.update(done);
          },
        },
      );
      bar.finish();
      results[head] = { ...r, layers: spec.layers };
    }
    ctx.out(
      renderTable([
        ["head", "blocks", "RMSE", "abs rel", "δ<1.25", "δ<1.25²", "δ<1.25³", "val images"],
        ...heads.map((h) => {
          const r = results[h]!;
          return [
            h === "lin1" ? "lin. 1" : "lin. 4",
            r.layers.join(","),
            r.rmse.toFixed(4),
            r.absRel.toFixed(4),
            pct(r.delta1),
            pct(r.delta2),
            pct(r.delta3),
            String(r.images),
          ];
        }),
      ]),
    );
    const last = results[heads[heads.length - 1]!]!;
    const picture = join(s.outputDir, "predictions.png");
    const files = writeOutputs(
      s.outputDir,
      {
        command: "eval-depth",
        model: s.modelDescription,
        data: s.synthetic ? "synthetic" : { root: v.data, depth_scale: scale },
        image_size: s.side,
        heads: Object.fromEntries(
          heads.map((h) => {
            const r = results[h]!;
            return [
              h,
              {
                blocks: r.layers,
                rmse: r.rmse,
                abs_rel: r.absRel,
                delta1: r.delta1,
                delta2: r.delta2,
                delta3: r.delta3,
                val_images: r.images,
              },
            ];
          }),
        ),
        protocol: {
          head: "linear BNHead: [patch map, CLS] per block, no final norm, x4 bilinear, 1x1 conv to 256 UD bins, relu+0.1 linear norm",
          depth_range: [minDepth, maxDepth],
          loss: {
            sigloss: true,
            sig_warmup_iters: Number(v["sig-warmup"]),
            gradient_loss_weight: Number(v["gradient-loss"]),
          },
          optimizer: {
            name: "AdamW",
            lr: s.lr,
            weight_decay: s.weightDecay,
            note: "official depth optimiser not in the reference; seg configs' AdamW + poly used",
          },
          schedule: { poly_power: 1, warmup_iters: s.warmup, iterations: s.iterations },
          batch_size: s.batchSize,
          cpu_simplifications: [
            "features cached once, no training augmentation",
            "resize + centre crop to image_size, no eval crop",
            `iterations ${s.iterations}`,
          ],
        },
        train_images: Math.min(train.length, s.trainSize),
        skipped: [...train.skipped, ...val.skipped],
      },
      curves,
      "depth head training loss",
    );
    writeFileSync(
      picture,
      encodePng(
        imageGrid([
          captionRow(
            ["image", "ground truth", ...heads.map((h) => (h === "lin1" ? "lin. 1" : "lin. 4"))],
            s.side,
          ),
          ...last.previews.map((p, i) => [
            imageFromChw(p.pixels, s.side, s.side),
            colourDepth(p.target, s.side, minDepth, maxDepth),
            ...heads.map((h) =>
              colourDepth(results[h]!.previews[i]!.pred, s.side, minDepth, maxDepth),
            ),
          ]),
        ]),
      ),
    );
    ctx.out(
      JSON.stringify({
        ...Object.fromEntries(
          heads.flatMap((h) => [
            [`rmse_${h}`, results[h]!.rmse],
            [`abs_rel_${h}`, results[h]!.absRel],
            [`delta1_${h}`, results[h]!.delta1],
          ]),
        ),
        files: { ...files, predictions: picture },
      }),
    );
    return 0;
  },
});
