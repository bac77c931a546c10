// `dinov2 eval-linear`: the official linear probe (dinov2/eval/linear.py): n_last_blocks ∈ {1, 4}
// × avgpool ∈ {off, on} × 13 learning rates, all heads trained at once, the best on --val reported.
import { join } from "node:path";
import { openDataset } from "../../data/datasets/dataset.js";
import { hflip } from "../../data/geometry.js";
import { normalize, toFloatImage } from "../../data/image.js";
import { randomResizedCrop } from "../../data/random-resized-crop.js";
import { createRng } from "../../data/rng.js";
import {
  type AugmentedSource,
  LINEAR_LEARNING_RATES,
  type LinearProbeResult,
  linearProbe,
} from "../../eval/linear-probe.js";
import { lossCurvePng } from "../../eval/plot.js";
import { headConfigs, probeFeatureHead, probeLayout } from "../../eval/probe-features.js";
import { defineCommand } from "../command.js";
import {
  EVAL_FLAGS,
  type EvalSplit,
  pct,
  resolveSplits,
  type SplitFeatures,
  setupModel,
  splitFeatures,
  writeResults,
} from "../eval-features.js";
import { intFlag } from "../flag-values.js";
import { createProgressBar } from "../progress.js";
import { renderTable } from "../table.js";
import { UsageError } from "../usage-error.js";

export const evalLinearCommand = defineCommand({
  name: "eval-linear",
  summary: "official linear probe: 52 heads (blocks × avgpool × 13 lrs) at once, best on --val",
  description: [
    "Trains dinov2/eval/linear.py's grid of linear heads on frozen features of --train: the CLS",
    "of the last 1 or 4 blocks, with or without the mean patch token, at 13 learning rates (scaled",
    "by batch/256), SGD momentum 0.9, cosine schedule, weight ~ N(0, 0.01), one ORT run per step.",
    "--val picks the best head and scores it (top-1, top-5).",
    "Features: by default cached once with the eval transform (the fast CPU mode; the official run",
    "augments every batch); --augment recomputes them every step from RandomResizedCrop + flip, as",
    "the official train transform. The results file records which. Val is scored once at the end",
    "(official: every 1250 iterations, the last one reported). Writes results_eval_linear.json and",
    "loss_curve.png (each configuration's best head) to --output-dir.",
  ].join("\n"),
  flags: {
    ...EVAL_FLAGS,
    epochs: { type: "string", valueName: "N", description: "official --epochs", default: "10" },
    "epoch-length": {
      type: "string",
      valueName: "N",
      description: "official --epoch-length (iterations per epoch)",
      default: "1250",
    },
    iterations: {
      type: "string",
      valueName: "N",
      description: "total SGD iterations (default epochs × epoch-length)",
    },
    "batch-size": {
      type: "string",
      valueName: "N",
      description: "train batch (lr scales by batch/256)",
      default: "128",
    },
    "learning-rates": {
      type: "string",
      valueName: "LIST",
      description: "base learning rates (default the official 13, 1e-5 … 0.1)",
    },
    augment: {
      type: "boolean",
      description: "official train transform, features recomputed every step (slow on CPU)",
    },
    seed: { type: "string", valueName: "N", description: "head init and sampling", default: "0" },
  },
  examples: [
    "dinov2 eval-linear --model dinov2-small/ --train imagenette/train --val imagenette/val",
    "dinov2 eval-linear --model runs/demo/export --synthetic 1000,500 --image-size 56 --epochs 2",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const epochs = intFlag(v.epochs, "epochs", { min: 1 });
    const epochLength = intFlag(v["epoch-length"], "epoch-length", { min: 1 });
    const iterations =
      v.iterations === undefined
        ? epochs * epochLength
        : intFlag(v.iterations, "iterations", { min: 1 });
    const batchSize = intFlag(v["batch-size"], "batch-size", { min: 1 });
    const seed = intFlag(v.seed, "seed", { min: 0 });
    const lrs = v["learning-rates"]
      ? v["learning-rates"].split(",").map((s) => positiveNumber(s, "learning-rates"))
      : LINEAR_LEARNING_RATES;
    const splits = await resolveSplits(v, "eval-linear", log);
    const m = await setupModel(v, "eval-linear", log);
    const o = m.backbone.options;
    const layout = probeLayout(o.embedDim, o.depth);
    const head = probeFeatureHead(layout.blocks);
    const val = await splitFeatures(m, splits.val, log, head);
    const train: AugmentedSource | SplitFeatures = v.augment
      ? augmentedSource(m.backbone, splits.train, m.imageSize, seed)
      : await splitFeatures(m, splits.train, log, head);
    const configs = headConfigs(layout);
    log(`training ${configs.length * lrs.length} linear heads for ${iterations} iterations...`);
    const bar = createProgressBar({ total: iterations, label: "linear heads", unit: "it" });
    const r = await linearProbe(m.runtime, train, val, {
      learningRates: lrs,
      iterations,
      batchSize,
      numClasses: splits.numClasses,
      layout,
      seed,
      onStep: (t, loss) => bar.update(t + 1, `loss ${loss.toFixed(4)}`),
    });
    bar.finish();
    const curve = join(m.outputDir, "loss_curve.png");
    plotHeadLosses(r, curve);
    const mode = v.augment ? "augment" : "cached-features";
    const results = {
      command: "eval-linear",
      model: m.description,
      train: splits.train.name,
      val: splits.val.name,
      image_size: m.imageSize,
      feature_mode: mode,
      simplifications: [
        ...(v.augment
          ? []
          : [
              "features cached once with the eval transform (official: RandomResizedCrop + flip every batch)",
            ]),
        "val scored once after the last iteration (official: every 1250 iterations)",
        ...(layout.blocks < 4
          ? [`backbone has ${o.depth} blocks: n_last_blocks = 4 heads left out`]
          : []),
      ],
      iterations,
      epochs,
      epoch_length: epochLength,
      batch_size: batchSize,
      learning_rates: lrs,
      best: { ...r.best },
      top1: r.top1,
      top5: r.top5,
      heads: r.heads,
      final_loss: r.losses.at(-1),
      skipped_images: "features" in train ? train.skipped : augmentSkipped(train),
      files: { loss_curve: curve },
    };
    const resultsPath = writeResults(m.outputDir, "eval_linear", results);
    ctx.out(
      renderTable([
        ["n_last_blocks", "avgpool", "best lr", "top-1", "top-5"],
        ...configs.map((c) => {
          const hs = r.heads.filter((h) => h.nBlocks === c.nBlocks && h.avgpool === c.avgpool);
          const b = hs.reduce((x, h) => (h.top1 > x.top1 ? h : x));
          return [String(c.nBlocks), String(c.avgpool), String(b.lr), pct(b.top1), pct(b.top5)];
        }),
      ]),
    );
    ctx.out(
      `best head: ${r.best.name} (top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}); ${mode}; ${resultsPath}`,
    );
    ctx.out(
      JSON.stringify({
        linear_top1: r.top1,
        linear_top5: r.top5,
        best_head: r.best.name,
        n_last_blocks: r.best.nBlocks,
        avgpool: r.best.avgpool,
        best_lr: r.best.lr,
        feature_mode: mode,
        results: resultsPath,
      }),
    );
    return 0;
  },
});

function augmentSkipped(src: AugmentedSource): number {
  return (src as { skipped?: () => number }).skipped?.() ?? 0;
}

function positiveNumber(s: string, flag: string): number {
  const x = Number(s.trim());
  if (!(x > 0) || !Number.isFinite(x)) {
    throw new UsageError(`--${flag}: got "${s}", expected positive numbers`, { flag: `--${flag}` });
  }
  return x;
}

/** Each configuration's best head (by val top-1): its own training loss per step. */
function plotHeadLosses(r: LinearProbeResult, path: string): void {
  const groups = new Map<string, number>();
  r.heads.forEach((h, i) => {
    const key = `${h.nBlocks} block${h.nBlocks > 1 ? "s" : ""}${h.avgpool ? " + avgpool" : ""}`;
    const prev = groups.get(key);
    if (prev === undefined || h.top1 > r.heads[prev]!.top1) groups.set(key, i);
  });
  const series = [...groups].map(([key, i]) => ({
    name: `${key}, lr ${r.heads[i]!.lr}`,
    values: r.headLosses.map((l) => l[i]!),
  }));
  let [lo, hi] = [Number.POSITIVE_INFINITY, 0];
  for (const s of series)
    for (const x of s.values) if (x > 0) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
  lossCurvePng(series, path, {
    title: "linear heads: training loss",
    xLabel: "iteration",
    // A log axis only when the losses span more than a decade; otherwise it would not fit them.
    logScale: hi > 10 * lo,
    width: 800,
  });
}

/** --augment: RandomResizedCrop(S, scale 0.08–1, bicubic) + horizontal flip + ImageNet norm. */
function augmentedSource(
  backbone: AugmentedSource["backbone"],
  split: EvalSplit,
  imageSize: number,
  seed: number,
): AugmentedSource & { skipped(): number } {
  const ds = openDataset(split.spec);
  const rng = createRng(seed).split("linear-augment");
  const per = 3 * imageSize * imageSize;
  let skipped = 0;
  return {
    backbone,
    imageSize,
    count: split.count,
    skipped: () => skipped,
    async load(rows) {
      const images = new Float32Array(rows.length * per);
      const labels = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        let rec = await ds.get(rows[i]!);
        for (let k = 1; !rec && k < split.count; k++) {
          skipped++; // an undecodable file: the next index stands in, counted
          rec = await ds.get((rows[i]! + k) % split.count);
        }
        if (!rec) throw new UsageError(`${split.name}: no image could be decoded`);
        let img = randomResizedCrop(toFloatImage(rec), rng, {
          size: imageSize,
          scale: [0.08, 1],
        });
        if (rng.bernoulli(0.5)) img = hflip(img);
        images.set(normalize(img).data, i * per);
        labels[i] = rec.label;
      }
      return { images, labels };
    },
  };
}
