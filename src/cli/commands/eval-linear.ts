// `dinov2 eval-linear`: linear probes on frozen CLS features (the n_last_blocks=1, avgpool=False
// variant of dinov2/eval/linear.py), one head per learning rate, the best on --val reported.
import { linearProbe } from "../../eval/linear-probe.js";
import { defineCommand } from "../command.js";
import { EVAL_FLAGS, evalSplits, pct } from "../eval-features.js";
import { intFlag } from "../flag-values.js";
import { renderTable } from "../table.js";

export const evalLinearCommand = defineCommand({
  name: "eval-linear",
  summary: "linear probe on frozen CLS features (a grid of learning rates, best head on --val)",
  description: "Heads train on --train; --val selects and scores the best one.",
  flags: {
    ...EVAL_FLAGS,
    iterations: {
      type: "string",
      valueName: "N",
      description: "SGD iterations per head",
      default: "1250",
    },
  },
  examples: [
    "dinov2 eval-linear --model dinov2-small/ --train imagenette/train --val imagenette/val",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const { runtime, train, val, numClasses } = await evalSplits(v, "eval-linear", log);
    const r = await linearProbe(runtime, train, val, {
      iterations: intFlag(v.iterations, "iterations", { min: 1 }),
      numClasses,
    });
    ctx.out(
      renderTable([
        ["lr", "top-1", "top-5"],
        ...r.heads.map((h) => [String(h.lr), pct(h.top1), pct(h.top5)]),
      ]),
    );
    ctx.out(JSON.stringify({ linear_top1: r.top1, linear_top5: r.top5, best_lr: r.bestLr }));
    return 0;
  },
});
