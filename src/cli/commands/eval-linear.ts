// `dinov2 eval-linear`: linear probes on frozen CLS features (the n_last_blocks=1, avgpool=False
// variant of dinov2/eval/linear.py), one head per learning rate, the best on --val reported.
import { linearProbe } from "../../eval/linear-probe.js";
import { resolveModel } from "../../inference/model-spec.js";
import { createRuntime, PROVIDERS } from "../../runtime/index.js";
import { defineCommand } from "../command.js";
import { labeledFolderFeatures } from "../eval-features.js";
import { asUsage, choiceFlag, intFlag, requiredFlag } from "../flag-values.js";
import { renderTable } from "../table.js";

export const evalLinearCommand = defineCommand({
  name: "eval-linear",
  summary: "linear probe on frozen CLS features (a grid of learning rates, best head on --val)",
  flags: {
    model: {
      type: "string",
      valueName: "FILE|DIR|PRESET",
      description: "checkpoint, HF folder or preset name (random weights)",
    },
    train: {
      type: "string",
      valueName: "DIR",
      description: "labeled images to train the heads on",
    },
    val: {
      type: "string",
      valueName: "DIR",
      description: "labeled images to select and score the best head",
    },
    iterations: {
      type: "string",
      valueName: "N",
      description: "SGD iterations per head",
      default: "1250",
    },
    "image-size": {
      type: "string",
      valueName: "PX",
      description: "eval crop side (multiple of 14)",
      default: "224",
    },
    provider: {
      type: "string",
      valueName: "NAME",
      description: `execution provider: ${PROVIDERS.join(", ")}`,
      default: "cpu",
    },
  },
  examples: [
    "dinov2 eval-linear --model dinov2-small/ --train imagenette/train --val imagenette/val",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const { backbone, description } = asUsage("--model", () =>
      resolveModel(requiredFlag(v.model, "model", "eval-linear")),
    );
    log(`model: ${description}`);
    const runtime = await createRuntime({
      provider: choiceFlag(v.provider, "provider", PROVIDERS),
    });
    const size = intFlag(v["image-size"], "image-size", { min: backbone.options.patchSize });
    const train = await labeledFolderFeatures(
      runtime,
      backbone,
      requiredFlag(v.train, "train", "eval-linear"),
      size,
      log,
    );
    const val = await labeledFolderFeatures(
      runtime,
      backbone,
      requiredFlag(v.val, "val", "eval-linear"),
      size,
      log,
    );
    const r = await linearProbe(runtime, train, val, {
      iterations: intFlag(v.iterations, "iterations", { min: 1 }),
      numClasses: Math.max(train.classNames.length, val.classNames.length),
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

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
