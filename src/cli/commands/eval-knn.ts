// `dinov2 eval-knn`: the official k-NN protocol on frozen features (dinov2/eval/knn.py):
// L2-normalised CLS tokens, cosine similarity, softmax(sim / T) weighted votes, top-1 and top-5.
import { knnEval } from "../../eval/knn.js";
import { defineCommand } from "../command.js";
import { EVAL_FLAGS, evalSplits, pct } from "../eval-features.js";
import { intFlag } from "../flag-values.js";
import { renderTable } from "../table.js";

export const evalKnnCommand = defineCommand({
  name: "eval-knn",
  summary:
    "k-NN classification on frozen features (official protocol: T = 0.07, k = 10, 20, 100, 200)",
  description: "--train holds the neighbours, --val the queries; the same class names label both.",
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
  },
  examples: [
    "dinov2 eval-knn --model dinov2_vits14_pretrain.pth --train imagenette/train --val imagenette/val",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const { train, val, numClasses } = await evalSplits(v, "eval-knn", log);
    const ks = v.ks
      .split(",")
      .map((k) => intFlag(k.trim(), "ks", { min: 1 }))
      .filter((k) => k <= train.labels.length);
    const r = knnEval(train, val, { ks, temperature: Number(v.temperature), numClasses });
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
