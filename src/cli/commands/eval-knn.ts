// `dinov2 eval-knn`: the official k-NN protocol on frozen features (dinov2/eval/knn.py):
// L2-normalised CLS tokens, cosine similarity, softmax(sim / T) weighted votes, top-1 and top-5.
import { knnEval } from "../../eval/knn.js";
import { resolveModel } from "../../inference/model-spec.js";
import { createRuntime, PROVIDERS } from "../../runtime/index.js";
import { defineCommand } from "../command.js";
import { labeledFolderFeatures } from "../eval-features.js";
import { asUsage, choiceFlag, intFlag, requiredFlag } from "../flag-values.js";
import { renderTable } from "../table.js";

export const evalKnnCommand = defineCommand({
  name: "eval-knn",
  summary:
    "k-NN classification on frozen features (official protocol: T = 0.07, k = 10, 20, 100, 200)",
  description:
    "--train and --val are folders of class subfolders; the same class names label both.",
  flags: {
    model: {
      type: "string",
      valueName: "FILE|DIR|PRESET",
      description: "checkpoint, HF folder or preset name (random weights)",
    },
    train: { type: "string", valueName: "DIR", description: "labeled images: the neighbours" },
    val: { type: "string", valueName: "DIR", description: "labeled images: the queries" },
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
    "dinov2 eval-knn --model dinov2_vits14_pretrain.pth --train imagenette/train --val imagenette/val",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const { backbone, description } = asUsage("--model", () =>
      resolveModel(requiredFlag(v.model, "model", "eval-knn")),
    );
    log(`model: ${description}`);
    const runtime = await createRuntime({
      provider: choiceFlag(v.provider, "provider", PROVIDERS),
    });
    const size = intFlag(v["image-size"], "image-size", { min: backbone.options.patchSize });
    const train = await labeledFolderFeatures(
      runtime,
      backbone,
      requiredFlag(v.train, "train", "eval-knn"),
      size,
      log,
    );
    const val = await labeledFolderFeatures(
      runtime,
      backbone,
      requiredFlag(v.val, "val", "eval-knn"),
      size,
      log,
    );
    const ks = v.ks
      .split(",")
      .map((k) => intFlag(k.trim(), "ks", { min: 1 }))
      .filter((k) => k <= train.labels.length);
    const r = knnEval(train, val, {
      ks,
      temperature: Number(v.temperature),
      numClasses: Math.max(train.classNames.length, val.classNames.length),
    });
    ctx.out(
      renderTable([
        ["k", "top-1", "top-5"],
        ...ks.map((k) => [String(k), pct(r.top1[k]!), pct(r.top5[k]!)]),
      ]),
    );
    ctx.out(JSON.stringify({ knn_top1: r.top1, knn_top5: r.top5 }));
    return 0;
  },
});

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
