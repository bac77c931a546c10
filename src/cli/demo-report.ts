// The demo's report: runs/demo/report.html, one self-contained page with the recipe, the loss
// terms (one panel each, its own fitted axis, raw and a running mean), k-NN top-1 over the run
// against the random-init baseline, the PCA-of-patches picture, and the nearest train images of a
// few held-out images (green frame: same class, red: other class).
import type { ResolvedConfig } from "../config/index.js";
import { type ReportBlock, writeReport } from "../eval/html-report.js";
import { nearestNeighbours } from "../eval/knn.js";
import { lossCurveImage, type Series } from "../eval/plot.js";
import {
  blankImage,
  imageFromChw,
  imageGrid,
  paste,
  type Rgb,
  type RgbImage,
  upscaleNearest,
} from "../eval/png.js";
import { drawText, fillRect, textWidth } from "../eval/raster.js";
import { uniformDinoLevels } from "../train/ssl-losses.js";
import type { LabeledImages } from "./knn-monitor.js";
import { presentTerms } from "./train-run.js";

export interface DemoReportInput {
  readonly path: string;
  readonly resolved: ResolvedConfig;
  /** The recipe's --set overrides on top of the preset, shown with the reasoning. */
  readonly sets: readonly string[];
  readonly metrics: readonly Readonly<Record<string, number>>[];
  readonly knnTrained: number;
  readonly knnRandom: number;
  /** "k = 20" or "k = 10". */
  readonly knnKey: string;
  readonly knnCounts: { readonly index: number; readonly queries: number };
  readonly seconds: Readonly<Record<string, number>>;
  readonly pca: RgbImage;
  /** The same picture from the network at its random initialisation. */
  readonly pcaRandom: RgbImage;
  readonly neighbours: RgbImage;
}

/** Writes report.html. */
export function writeDemoReport(r: DemoReportInput): void {
  const { cfg, derived } = r.resolved;
  const iters = r.metrics.length ? r.metrics[r.metrics.length - 1]!.iteration! : 0;
  const summary: ReportBlock = {
    kind: "table",
    rows: [
      ["k-NN top-1, trained teacher", r.knnTrained.toFixed(3)],
      ["k-NN top-1, same network at its random init", r.knnRandom.toFixed(3)],
      ["gain", (r.knnTrained - r.knnRandom).toFixed(3)],
      ["iterations", String(iters)],
      ...Object.entries(r.seconds).map(([k, v]): [string, string] => [`${k} (s)`, v.toFixed(1)]),
    ],
  };
  writeReport(r.path, {
    title: "dinov2-ts demo: DINOv2 pretraining on synthetic shapes",
    sections: [
      {
        heading: "Result",
        blocks: [
          {
            kind: "text",
            text:
              `k-NN top-1 (official protocol: L2-normalised CLS features, T = 0.07, ${r.knnKey}) of ` +
              `${r.knnCounts.queries} held-out images against ${r.knnCounts.index} labeled train ` +
              "images (other seeds than the training stream), 10 classes (chance 0.1).",
          },
          summary,
        ],
      },
      {
        heading: "Recipe",
        blocks: [
          {
            kind: "table",
            rows: [
              ["preset", "vits14-demo"],
              ["overrides", r.sets.join("  ") || "none"],
              ["backbone", `${derived.backbone.embedDim} wide, ${derived.backbone.depth} blocks`],
              ["patch size", String(derived.backbone.patchSize)],
              [
                "crops",
                `2 × ${cfg.crops.global_crops_size}px global, ${cfg.crops.local_crops_number} × ${cfg.crops.local_crops_size}px local`,
              ],
              ["batch", String(cfg.train.batch_size_per_gpu)],
              ["lr (scaled)", derived.lr.toPrecision(3)],
              ["centering", cfg.train.centering],
            ],
          },
          { kind: "pre", text: JSON.stringify(cfg, null, 1) },
        ],
      },
      {
        heading: "Losses",
        blocks: [
          {
            kind: "text",
            text: "The DINO panels show where a student predicting uniformly over the prototypes would sit (ln K per crop pair). A short CPU run stays near it: the teacher's centred CLS targets are still close to uniform (docs/distillation.md).",
          },
          {
            kind: "image",
            image: lossPanels(
              r.metrics,
              uniformDinoLevels(cfg.crops.local_crops_number, cfg.dino.head_n_prototypes),
            ),
            alt: "loss terms over iterations",
          },
        ],
      },
      {
        heading: "k-NN over iterations",
        blocks: [
          {
            kind: "image",
            image: knnCurve(r.metrics, r.knnKey, r.knnRandom),
            alt: "k-NN top-1 over iterations",
          },
        ],
      },
      {
        heading: "PCA of patch features",
        blocks: [
          {
            kind: "text",
            text:
              "Each row: a held-out image at 112px and the first three principal components of " +
              "the patch features (per image) as RGB, one square per 14px patch (8×8). Left: the " +
              "trained teacher; right: the same network at its random initialisation. On these " +
              "flat backgrounds the random network already separates objects from background; " +
              "compare the colours inside the objects.",
          },
          {
            kind: "image",
            image: imageGrid(
              [[captioned(r.pca, "trained teacher"), captioned(r.pcaRandom, "random init")]],
              { gapPx: 16 },
            ),
            alt: "PCA of patch features",
          },
        ],
      },
      {
        heading: "Nearest neighbours",
        blocks: [
          {
            kind: "text",
            text:
              "Left: held-out images; right: their nearest train images by cosine similarity of " +
              "the trained teacher's CLS features (green frame: same class, red: another class).",
          },
          { kind: "image", image: r.neighbours, alt: "nearest neighbours" },
        ],
      },
    ],
  });
}

/** One panel per loss term: the raw values and a running mean, each with its own fitted axis. */
export function lossPanels(
  metrics: readonly Readonly<Record<string, number>>[],
  uniform: Readonly<Record<string, number>> = {},
): RgbImage {
  const x = metrics.map((m) => m.iteration ?? Number.NaN);
  const ends = x.length ? [x[0]!, x[x.length - 1]!] : [0, 1];
  const panels = presentTerms(metrics).map((term) => {
    const raw = metrics.map((m) => m[term] ?? Number.NaN);
    const series: Series[] = [
      { name: "per iteration", x, values: raw },
      { name: "mean of 25", x, values: runningMean(raw, 25) },
    ];
    const level = uniform[term];
    if (level !== undefined)
      series.push({ name: "uniform: ln K", x: ends, values: [level, level] });
    return lossCurveImage(series, { width: 480, height: 260, title: term, xLabel: "iteration" });
  });
  const rows: RgbImage[][] = [];
  for (let i = 0; i < panels.length; i += 2) rows.push(panels.slice(i, i + 2));
  return imageGrid(rows, { gapPx: 6 });
}

/** k-NN top-1 at each evaluation, with the random-init value and chance as flat lines. */
export function knnCurve(
  metrics: readonly Readonly<Record<string, number>>[],
  key: string,
  random: number,
): RgbImage {
  const evals = metrics.filter((m) => Number.isFinite(m[key]));
  const last = metrics.length ? metrics[metrics.length - 1]!.iteration! : 1;
  return lossCurveImage(
    [
      {
        name: "trained teacher",
        x: [0, ...evals.map((m) => m.iteration!)],
        values: [random, ...evals.map((m) => m[key]!)],
      },
      { name: "random init", x: [0, last], values: [random, random] },
      { name: "chance", x: [0, last], values: [0.1, 0.1] },
    ],
    { width: 720, height: 360, title: `k-NN top-1 (${key})`, xLabel: "iteration" },
  );
}

/** Mean of the last `window` finite values at each position (NaN until one is seen). */
export function runningMean(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  const buf: number[] = [];
  let sum = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      buf.push(v);
      sum += v;
      if (buf.length > window) sum -= buf.shift()!;
    }
    out.push(buf.length ? sum / buf.length : Number.NaN);
  }
  return out;
}

const SAME: Rgb = [40, 170, 60];
const OTHER: Rgb = [215, 40, 40];

/**
 * Rows of [query | its `k` nearest train images], each image framed green (same label as the
 * query) or red, with the class name and cosine similarity under each neighbour.
 */
export function neighbourGrid(
  index: LabeledImages,
  indexFeatures: Float32Array,
  queries: LabeledImages,
  queryFeatures: Float32Array,
  dim: number,
  opts: {
    readonly queries: readonly number[];
    readonly k: number;
    readonly classNames: readonly string[];
  },
): RgbImage {
  const picked = new Float32Array(opts.queries.length * dim);
  opts.queries.forEach((q, i) => {
    picked.set(queryFeatures.subarray(q * dim, (q + 1) * dim), i * dim);
  });
  const nb = nearestNeighbours(
    indexFeatures,
    index.count,
    picked,
    opts.queries.length,
    dim,
    opts.k,
  );
  const rows = opts.queries.map((q, i) => {
    const label = queries.labels[q]!;
    const row = [
      tile(picture(queries, q), [90, 90, 90], `${opts.classNames[label] ?? label} (query)`),
      blankImage(12, 1),
    ];
    for (let j = 0; j < opts.k; j++) {
      const t = nb.indices[i * opts.k + j]!;
      const same = index.labels[t] === label;
      const name = opts.classNames[index.labels[t]!] ?? String(index.labels[t]);
      row.push(
        tile(
          picture(index, t),
          same ? SAME : OTHER,
          `${name} ${nb.sims[i * opts.k + j]!.toFixed(2)}`,
        ),
      );
    }
    return row;
  });
  return imageGrid(rows, { gapPx: 4 });
}

function picture(set: LabeledImages, i: number): RgbImage {
  const per = 3 * set.side * set.side;
  const img = imageFromChw(set.images.subarray(i * per, (i + 1) * per), set.side, set.side);
  return upscaleNearest(img, Math.max(1, Math.round(96 / set.side)));
}

/** The image in a 3px frame with a caption line under it. */
function tile(img: RgbImage, frame: Rgb, caption: string): RgbImage {
  const b = 3;
  const w = Math.max(img.width + 2 * b, textWidth(caption) + 4);
  const out = blankImage(w, img.height + 2 * b + 12);
  const x = (w - img.width - 2 * b) >> 1;
  fillRect(out, x, 0, img.width + 2 * b, img.height + 2 * b, frame);
  paste(out, img, x + b, b);
  drawText(out, caption, (w - textWidth(caption)) >> 1, img.height + 2 * b + 3, [40, 40, 40]);
  return out;
}

/** The image under a one-line caption (scale-2 text). */
function captioned(img: RgbImage, caption: string): RgbImage {
  const out = blankImage(Math.max(img.width, textWidth(caption, 2) + 8), img.height + 24);
  drawText(out, caption, (out.width - textWidth(caption, 2)) >> 1, 4, [40, 40, 40], 2);
  paste(out, img, (out.width - img.width) >> 1, 24);
  return out;
}
