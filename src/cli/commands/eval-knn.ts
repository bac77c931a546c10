// `dinov2 eval-knn`: the official k-NN protocol on frozen features (dinov2/eval/knn.py):
// L2-normalised CLS tokens, cosine similarity, softmax(sim / T) weighted votes, top-1 and top-5;
// few-shot with --n-per-class / --n-tries as knn.py's n_per_class_list / n_tries.
import { type KnnResult, knnEval, knnFewShot } from "../../eval/knn.js";
import { defineCommand } from "../command.js";
import {
  EVAL_FLAGS,
  pct,
  resolveSplits,
  setupModel,
  splitFeatures,
  writeResults,
} from "../eval-features.js";
import { intFlag } from "../flag-values.js";
import { renderTable } from "../table.js";
import { UsageError } from "../usage-error.js";

export const evalKnnCommand = defineCommand({
  name: "eval-knn",
  summary:
    "k-NN classification on frozen features (official protocol: T = 0.07, k = 10, 20, 100, 200)",
  description: [
    "--train holds the neighbours, --val the queries; the same class names label both.",
    "--n-per-class=-1,1,5 --n-tries 3 adds the few-shot protocol: per try t, n train images of",
    "each class drawn with seed t (-1 = the full train set, the default). Writes",
    "results_eval_knn.json to --output-dir.",
  ].join("\n"),
  flags: {
    ...EVAL_FLAGS,
    ks: {
      type: "string",
      valueName: "LIST",
      description: "neighbour counts",
      default: "10,20,100,200",
    },
    temperature: {
      type: "string",
      valueName: "T",
      description: "softmax temperature",
      default: "0.07",
    },
    "n-per-class": {
      type: "string",
      valueName: "LIST",
      description: "few-shot train images per class (-1: all)",
      default: "-1",
    },
    "n-tries": {
      type: "string",
      valueName: "N",
      description: "few-shot draws per n (seeds 0 … N-1)",
      default: "1",
    },
  },
  examples: [
    "dinov2 eval-knn --model dinov2_vits14_pretrain.pth --train imagenette/train --val imagenette/val",
    "dinov2 eval-knn --model runs/demo/export --synthetic 1000,500 --image-size 56 --n-per-class=-1,1,5 --n-tries 3",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const nPerClass = v["n-per-class"]
      .split(",")
      .map((s) => intFlag(s.trim(), "n-per-class", { min: -1 }))
      .filter((n, i, all) => all.indexOf(n) === i);
    if (nPerClass.includes(0)) {
      throw new UsageError(
        "--n-per-class: 0 images per class leaves no neighbours; use -1 or ≥ 1",
        {
          flag: "--n-per-class",
        },
      );
    }
    const nTries = intFlag(v["n-tries"], "n-tries", { min: 1 });
    const temperature = Number(v.temperature);
    if (!(temperature > 0)) {
      throw new UsageError(`--temperature: got "${v.temperature}", expected a number > 0`, {
        flag: "--temperature",
      });
    }
    const ksAsked = v.ks.split(",").map((k) => intFlag(k.trim(), "ks", { min: 1 }));
    const splits = await resolveSplits(v, "eval-knn", log);
    const m = await setupModel(v, "eval-knn", log);
    const train = await splitFeatures(m, splits.train, log);
    const val = await splitFeatures(m, splits.val, log);
    const opts = { temperature, numClasses: splits.numClasses };
    const rows: { setting: string; trainRows: number; result: KnnResult }[] = [];
    for (const n of nPerClass) {
      if (n < 0) {
        const ks = ksAsked.filter((k) => k <= train.labels.length);
        rows.push({
          setting: "full",
          trainRows: train.labels.length,
          result: knnEval(train, val, { ...opts, ks }),
        });
        continue;
      }
      for (const t of knnFewShot(train, val, n, nTries, { ...opts, ks: ksAsked })) {
        rows.push({
          setting: `${n}/class try ${t.seed + 1}`,
          trainRows: t.trainRows,
          result: t.result,
        });
      }
    }
    const table: string[][] = [["setting", "train", "k", "top-1", "top-5"]];
    for (const r of rows) {
      for (const k of Object.keys(r.result.top1)) {
        const kk = Number(k);
        table.push([
          r.setting,
          String(r.trainRows),
          k,
          pct(r.result.top1[kk]!),
          pct(r.result.top5[kk]!),
        ]);
      }
    }
    const full = rows.find((r) => r.setting === "full")?.result;
    const results = {
      command: "eval-knn",
      model: m.description,
      train: splits.train.name,
      val: splits.val.name,
      image_size: m.imageSize,
      temperature,
      n_per_class: nPerClass,
      n_tries: nTries,
      few_shot_sampling: "seeded per try t (our RNG, not torch.randperm: same rule, other rows)",
      skipped_images: train.skipped + val.skipped,
      results: rows.map((r) => ({ setting: r.setting, train_rows: r.trainRows, ...r.result })),
    };
    const path = writeResults(m.outputDir, "eval_knn", results);
    ctx.out(renderTable(table));
    ctx.out(
      JSON.stringify({
        ...(full ? { knn_top1: full.top1, knn_top5: full.top5 } : {}),
        few_shot: rows
          .filter((r) => r.setting !== "full")
          .map((r) => ({ setting: r.setting, top1: r.result.top1 })),
        results: path,
      }),
    );
    return 0;
  },
});
