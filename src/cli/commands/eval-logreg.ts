// `dinov2 eval-logreg`: the official logistic-regression protocol (dinov2/eval/log_regression.py)
// on raw CLS features in float64: C swept over 10 ** linspace(-6, 5, 45) on a 10% split of train,
// the best C refitted on all of train and scored on --val.
import { join } from "node:path";
import { LOGREG_C_VALUES, logRegProtocol } from "../../eval/logreg-protocol.js";
import { lossCurvePng } from "../../eval/plot.js";
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
import { createProgressBar } from "../progress.js";
import { renderTable } from "../table.js";
import { UsageError } from "../usage-error.js";

export const evalLogregCommand = defineCommand({
  name: "eval-logreg",
  summary: "official logistic regression on raw CLS features (45 C values, L-BFGS, float64)",
  description: [
    "Fits multinomial L2 logistic regression (L-BFGS on float64 graphs) to the raw, not",
    "normalised, CLS token of --train for each C in 10 ** linspace(-6, 5, 45), chosen on a random",
    "10% of train (seed 0), then refitted on all of train and scored on --val. The official run",
    "uses cuML with tol 1e-12; the default here is scikit-learn's 1e-4 (--tol to change).",
    "Writes results_eval_logreg.json and sweep.png (top-1 on the 10% split against C).",
  ].join("\n"),
  flags: {
    ...EVAL_FLAGS,
    "max-iter": {
      type: "string",
      valueName: "N",
      description: "L-BFGS iterations per fit",
      default: "1000",
    },
    tol: {
      type: "string",
      valueName: "X",
      description: "stop at max |gradient| ≤ X",
      default: "1e-4",
    },
    "c-values": {
      type: "string",
      valueName: "LIST",
      description: "C values to sweep (default the official 45)",
    },
  },
  examples: [
    "dinov2 eval-logreg --model dinov2-small/ --train imagenette/train --val imagenette/val",
    "dinov2 eval-logreg --model runs/demo/export --synthetic 1000,500 --image-size 56",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const maxIter = intFlag(v["max-iter"], "max-iter", { min: 1 });
    const tol = Number(v.tol);
    if (!(tol >= 0)) {
      throw new UsageError(`--tol: got "${v.tol}", expected a number ≥ 0`, { flag: "--tol" });
    }
    const cValues = v["c-values"]
      ? v["c-values"].split(",").map((s) => {
          const c = Number(s.trim());
          if (!(c > 0) || !Number.isFinite(c)) {
            throw new UsageError(`--c-values: got "${s}", expected positive numbers`, {
              flag: "--c-values",
            });
          }
          return c;
        })
      : LOGREG_C_VALUES;
    const splits = await resolveSplits(v, "eval-logreg", log);
    const m = await setupModel(v, "eval-logreg", log);
    const train = await splitFeatures(m, splits.train, log);
    const val = await splitFeatures(m, splits.val, log);
    const bar = createProgressBar({ total: cValues.length, label: "C sweep", unit: "fit" });
    const r = await logRegProtocol(m.runtime, train, val, {
      numClasses: splits.numClasses,
      cValues,
      maxIter,
      tol,
      onC: (done, c, top1) => bar.update(done, `C ${c.toExponential(2)}: ${pct(top1)}`),
    });
    bar.finish();
    const sweepPng = join(m.outputDir, "sweep.png");
    lossCurvePng(
      [{ name: "top-1 on 10% of train", values: r.sweep.map((p) => p.top1) }],
      sweepPng,
      {
        title: "logistic regression: C sweep",
        xLabel: `C index i: C = 10^(-6 + 11 i / 44)`,
        width: 800,
      },
    );
    const results = {
      command: "eval-logreg",
      model: m.description,
      train: splits.train.name,
      val: splits.val.name,
      image_size: m.imageSize,
      features: "raw CLS token (x_norm_clstoken, not L2-normalised), float64",
      solver: { name: "L-BFGS (memory 10, strong Wolfe)", max_iter: maxIter, tol },
      simplifications: [
        "official: cuML tol 1e-12; here --tol (default scikit-learn's 1e-4)",
        "the 10% split uses our seeded RNG (seed 0), not torch.randperm",
      ],
      finetune_rows: r.finetuneRows,
      best_C: r.bestC,
      top1: r.top1,
      top5: r.top5,
      sweep: r.sweep,
      skipped_images: train.skipped + val.skipped,
      files: { sweep: sweepPng },
    };
    const path = writeResults(m.outputDir, "eval_logreg", results);
    const best = r.sweep.findIndex((p) => p.C === r.bestC);
    const shown = r.sweep.filter((_, i) => i % 4 === 0 || i === best);
    ctx.out(
      renderTable([
        ["C", "top-1 (10% of train)", "iterations", ""],
        ...shown.map((p) => [
          p.C.toExponential(2),
          pct(p.top1),
          String(p.iterations),
          p.C === r.bestC ? "← best" : "",
        ]),
      ]),
    );
    ctx.out(`val: top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)} at C = ${r.bestC.toExponential(3)}`);
    ctx.out(
      JSON.stringify({ logreg_top1: r.top1, logreg_top5: r.top5, best_C: r.bestC, results: path }),
    );
    return 0;
  },
});
