// What eval-seg and eval-depth share: flags, the backbone (optionally re-initialised with its
// architecture kept), feature caching and head training with progress bars, results and pictures.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DenseDataset } from "../data/datasets/dense.js";
import {
  cacheDenseFeatures,
  type DenseCache,
  type DenseFeatureSpec,
} from "../eval/dense-features.js";
import { lossCurvePng } from "../eval/plot.js";
import { blankImage, type Rgb, type RgbImage } from "../eval/png.js";
import { drawText, textHeight, textWidth } from "../eval/raster.js";
import { resolveModel } from "../inference/model-spec.js";
import { type Backbone, createBackbone } from "../models/backbone.js";
import { createRuntime, PROVIDERS, type Runtime } from "../runtime/index.js";
import type { Flags } from "./command.js";
import { denseBatches } from "./dense-data.js";
import { asUsage, choiceFlag, intFlag, positiveFlag, requiredFlag } from "./flag-values.js";
import { createProgressBar } from "./progress.js";
import { UsageError } from "./usage-error.js";

export const DENSE_FLAGS = {
  model: {
    type: "string",
    valueName: "FILE|DIR|PRESET",
    description: "checkpoint, HF folder or preset name (random weights)",
  },
  "random-weights": {
    type: "boolean",
    description:
      "keep --model's architecture, re-initialise its weights (seed --seed): the random-init baseline",
  },
  data: {
    type: "string",
    valueName: "DIR|synthetic",
    description: "dataset folder, or `synthetic` for the built-in set",
    default: "synthetic",
  },
  "image-size": {
    type: "string",
    valueName: "PX",
    description:
      "square input side, a multiple of the patch size (default: 112 synthetic, 224 folders)",
  },
  iterations: {
    type: "string",
    valueName: "N",
    description: "head training steps (official: 40,000 seg / 38,400 depth)",
    default: "1000",
  },
  "batch-size": {
    type: "string",
    valueName: "N",
    description: "images per training step",
    default: "8",
  },
  lr: { type: "string", valueName: "LR", description: "AdamW learning rate", default: "1e-3" },
  "weight-decay": {
    type: "string",
    valueName: "WD",
    description: "AdamW weight decay",
    default: "1e-4",
  },
  warmup: {
    type: "string",
    valueName: "N",
    description: "linear warmup steps (default: 1500/40000 of --iterations, as official)",
  },
  "train-size": {
    type: "string",
    valueName: "N",
    description: "use at most N train images (synthetic: render N)",
    default: "400",
  },
  "val-size": {
    type: "string",
    valueName: "N",
    description: "use at most N val images (synthetic: render N)",
    default: "100",
  },
  "output-dir": {
    type: "string",
    valueName: "DIR",
    description: "where results.json and pictures go",
  },
  provider: {
    type: "string",
    valueName: "NAME",
    description: `execution provider: ${PROVIDERS.join(", ")}`,
    default: "cpu",
  },
  seed: {
    type: "string",
    valueName: "N",
    description: "head initialisation and sampling (and --random-weights)",
    default: "0",
  },
} as const satisfies Flags;

type DenseValues = {
  readonly [K in keyof typeof DENSE_FLAGS]: (typeof DENSE_FLAGS)[K] extends { type: "boolean" }
    ? boolean
    : string | undefined;
};

export interface DenseSetup {
  readonly runtime: Runtime;
  readonly backbone: Backbone;
  readonly modelDescription: string;
  readonly side: number;
  readonly synthetic: boolean;
  readonly iterations: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly warmup: number;
  readonly trainSize: number;
  readonly valSize: number;
  readonly seed: number;
  readonly outputDir: string;
}

export async function denseSetup(
  v: DenseValues,
  command: string,
  log: (s: string) => void,
): Promise<DenseSetup> {
  const seed = intFlag(v.seed ?? "0", "seed", { min: 0 });
  const resolved = asUsage("--model", () =>
    resolveModel(requiredFlag(v.model, "model", command), seed),
  );
  const backbone = v["random-weights"]
    ? createBackbone(resolved.backbone.options, seed)
    : resolved.backbone;
  const modelDescription = v["random-weights"]
    ? `${v.model} architecture with random weights (seed ${seed})`
    : resolved.description;
  log(`model: ${modelDescription}`);
  const synthetic = (v.data ?? "synthetic") === "synthetic";
  const patch = backbone.options.patchSize;
  const side = intFlag(v["image-size"] ?? (synthetic ? "112" : "224"), "image-size", {
    min: patch,
  });
  if (side % patch !== 0) {
    throw new UsageError(`--image-size: ${side} is not a multiple of the patch size ${patch}`, {
      flag: "--image-size",
    });
  }
  const iterations = intFlag(v.iterations ?? "1000", "iterations", { min: 1 });
  const runtime = await createRuntime({
    provider: choiceFlag(v.provider ?? "cpu", "provider", PROVIDERS),
  });
  return {
    runtime,
    backbone,
    modelDescription,
    side,
    synthetic,
    iterations,
    batchSize: intFlag(v["batch-size"] ?? "8", "batch-size", { min: 1 }),
    lr: positiveFlag(v.lr ?? "1e-3", "lr"),
    weightDecay: positiveFlag(v["weight-decay"] ?? "1e-4", "weight-decay", true),
    warmup:
      v.warmup === undefined
        ? Math.round((iterations * 1500) / 40000)
        : intFlag(v.warmup, "warmup", { min: 0 }),
    trainSize: intFlag(v["train-size"] ?? "400", "train-size", { min: 1 }),
    valSize: intFlag(v["val-size"] ?? "100", "val-size", { min: 1 }),
    seed,
    outputDir: v["output-dir"] ?? join("runs", command),
  };
}

/** Caches the features of a dataset's first `limit` samples, with a progress bar. */
export async function cacheWithProgress<S extends { image: { height: number; width: number } }>(
  s: DenseSetup,
  ds: DenseDataset<S>,
  spec: DenseFeatureSpec,
  target: (sample: S) => ArrayLike<number>,
  limit: number,
  label: string,
): Promise<DenseCache> {
  const total = Math.min(ds.length, limit);
  const bar = createProgressBar({ total, label, unit: "img" });
  let done = 0;
  const cache = await cacheDenseFeatures(
    s.runtime,
    s.backbone,
    denseBatches(ds, s.side, s.batchSize, target, limit),
    spec,
    {
      batchSize: s.batchSize,
      side: s.side,
      onBatch: (n) => {
        done += n;
        bar.update(done);
      },
    },
  );
  bar.finish();
  return cache;
}

/** A progress callback for head training (bar with the running loss). */
export function stepProgress(
  label: string,
  total: number,
): { onStep: (t: number, loss: number) => void; finish: () => void } {
  const bar = createProgressBar({ total, label, unit: "it" });
  return {
    onStep: (t, loss) => bar.update(t + 1, `loss ${loss.toFixed(4)}`),
    finish: () => bar.finish(),
  };
}

/** Writes results.json and the loss-curve PNG; returns their paths. */
export function writeOutputs(
  dir: string,
  results: unknown,
  curves: readonly { name: string; values: readonly number[] }[],
  title: string,
): { results: string; lossCurve: string } {
  mkdirSync(dir, { recursive: true });
  const resultsPath = join(dir, "results.json");
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const lossCurve = join(dir, "loss_curve.png");
  lossCurvePng(curves, lossCurve, {
    title,
    xLabel: "iteration",
    logScale: false,
    width: 900,
  });
  return { results: resultsPath, lossCurve };
}

/** A row of column captions, each centred over a cell `width` wide. */
export function captionRow(labels: readonly string[], width: number): RgbImage[] {
  return labels.map((text) => {
    const img = blankImage(width, textHeight(1) + 4);
    drawText(img, text, Math.max(0, (width - textWidth(text, 1)) >> 1), 2, [40, 40, 40], 1);
    return img;
  });
}

/** A class-index map as colours (index 255, ignored, is black). */
export function colourLabels(labels: ArrayLike<number>, side: number): RgbImage {
  const data = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) data.set(labelColour(labels[i]!), 3 * i);
  return { width: side, height: side, data };
}

/** A depth map as colours (turbo-like ramp from near = blue to far = red; invalid = black). */
export function colourDepth(
  depth: ArrayLike<number>,
  side: number,
  lo: number,
  hi: number,
): RgbImage {
  const data = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    const d = depth[i]!;
    if (!(d > 0)) continue;
    data.set(ramp(Math.min(1, Math.max(0, (d - lo) / (hi - lo)))), 3 * i);
  }
  return { width: side, height: side, data };
}

function labelColour(k: number): Rgb {
  if (k === 255) return [0, 0, 0];
  if (k === 0) return [60, 60, 60];
  const h = (k * 0.618034) % 1;
  const f = (n: number) => {
    const x = (n + h * 6) % 6;
    return Math.round(255 * (1 - 0.75 * Math.max(0, Math.min(x, 4 - x, 1))));
  };
  return [f(5), f(3), f(1)];
}

function ramp(t: number): Rgb {
  const stops: Rgb[] = [
    [48, 18, 59],
    [40, 130, 240],
    [30, 210, 140],
    [200, 230, 40],
    [250, 120, 20],
    [122, 4, 3],
  ];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [0, 1, 2].map((c) => Math.round(a[c]! * (1 - f) + b[c]! * f)) as unknown as Rgb;
}
