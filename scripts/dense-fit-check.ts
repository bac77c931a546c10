// Does a dense head learn from these features, or only the label prior? Trains the eval-seg `lin`
// head (or the eval-depth `lin1` / `lin4` head) exactly as the command does (same synthetic seeds,
// batch 8, AdamW + poly, warmup 1500/40000 of the steps) and scores it on 100 TRAIN images as well
// as on the 100 val images, with per-class IoU; for depth also the two trivial predictors (the
// mean train depth, and the mean train depth at each pixel position) as a floor.
//   npx tsx scripts/dense-fit-check.ts --model FILE [--random-weights] [--task seg|lin1|lin4]
//     [--image-size 56] [--iterations 1000] [--lr 1e-3] [--train-size 400]
import { parseArgs } from "node:util";
import { denseBatches } from "../src/cli/dense-data.js";
import { createSyntheticSegmentation } from "../src/data/datasets/dense.js";
import { createSyntheticDepth } from "../src/data/datasets/synthetic-depth.js";
import { cacheDenseFeatures, depthOutIndices } from "../src/eval/dense-features.js";
import { depthMetrics, evaluateDepth } from "../src/eval/depth-eval.js";
import { trainDepthHead } from "../src/eval/depth-head.js";
import { evaluateSegmentation } from "../src/eval/seg-eval.js";
import { trainSegHead } from "../src/eval/seg-head.js";
import { resolveModel } from "../src/inference/model-spec.js";
import { createBackbone } from "../src/models/backbone.js";
import { createRuntime } from "../src/runtime/index.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    "random-weights": { type: "boolean", default: false },
    task: { type: "string", default: "seg" },
    "image-size": { type: "string", default: "56" },
    iterations: { type: "string", default: "1000" },
    lr: { type: "string", default: "1e-3" },
    "train-size": { type: "string", default: "400" },
    layout: { type: "string", default: "scene" },
  },
});
if (!v.model) throw new Error("--model FILE|DIR|PRESET is required");
const [S, iterations, lr, N] = [v["image-size"], v.iterations, v.lr, v["train-size"]].map(Number);
const common = { iterations: iterations!, batchSize: 8, lr: lr!, weightDecay: 1e-4, seed: 0 };
const warmupIterations = Math.round((iterations! * 1500) / 40000);
const resolved = resolveModel(v.model, 0);
const bb = v["random-weights"] ? createBackbone(resolved.backbone.options, 0) : resolved.backbone;
const rt = await createRuntime({ provider: "cpu" });
const depth = bb.options.depth;
const pct = (x: number) => (100 * x).toFixed(1);

if (v.task === "seg") {
  const layout = v.layout === "object" ? "object" : "scene";
  const train = createSyntheticSegmentation({ seed: 2001, length: N!, size: S!, layout });
  const val = createSyntheticSegmentation({ seed: 2002, length: 100, size: S!, layout });
  const spec = { layers: [depth - 1], norm: true, withCls: false };
  const mask = (x: { mask: Uint8Array }) => x.mask;
  const cache = await cacheDenseFeatures(rt, bb, denseBatches(train, S!, 8, mask), spec, {
    batchSize: 8,
    side: S!,
  });
  const head = await trainSegHead(rt, cache, { ...common, numClasses: 11, warmupIterations });
  cache.release();
  for (const [name, ds] of [
    ["train", train],
    ["val", val],
  ] as const) {
    const m = await evaluateSegmentation(
      rt,
      bb,
      spec,
      head.params,
      denseBatches(ds, S!, 8, mask, 100),
      {
        side: S!,
        batchSize: 8,
      },
    );
    const iou = m.perClassIoU.map((x) => (Number.isNaN(x) ? "-" : pct(x))).join(" ");
    console.log(
      `${name}: mIoU ${pct(m.mIoU)} pixel acc ${pct(m.pixelAccuracy)} per-class IoU ${iou}`,
    );
  }
} else if (v.task === "lin1" || v.task === "lin4") {
  const train = createSyntheticDepth({ seed: 3001, length: N!, size: S! });
  const val = createSyntheticDepth({ seed: 3002, length: 100, size: S! });
  const range = { minDepth: 0.001, maxDepth: 10 };
  const target = (x: { depth: Float32Array }) => x.depth;
  const plane = S! * S!;
  const sum = new Float64Array(plane);
  for await (const b of denseBatches(train, S!, 8, target)) {
    for (let i = 0; i < b.count * plane; i++) sum[i % plane]! += b.targets[i]!;
  }
  const position = Float32Array.from(sum, (x) => x / N!);
  const constant = new Float32Array(plane).fill(position.reduce((a, b) => a + b, 0) / plane);
  for (const [name, pred] of [
    ["mean depth", constant],
    ["mean depth per pixel", position],
  ] as const) {
    let rmse = 0;
    let n = 0;
    for await (const b of denseBatches(val, S!, 8, target)) {
      for (let i = 0; i < b.count; i++) {
        const m = depthMetrics(pred, b.targets.subarray(i * plane, (i + 1) * plane), 0.001, 10);
        if (m) [rmse, n] = [rmse + m.rmse, n + 1];
      }
    }
    console.log(`floor, ${name}: val RMSE ${(rmse / n).toFixed(3)}`);
  }
  const layers = v.task === "lin1" ? [depth - 1] : depthOutIndices(depth);
  const spec = { layers, norm: false, withCls: true };
  const cache = await cacheDenseFeatures(rt, bb, denseBatches(train, S!, 8, target), spec, {
    batchSize: 8,
    side: S!,
  });
  const head = await trainDepthHead(rt, cache, { ...common, ...range, warmupIterations });
  cache.release();
  for (const [name, ds] of [
    ["train", train],
    ["val", val],
  ] as const) {
    const m = await evaluateDepth(rt, bb, spec, head.params, denseBatches(ds, S!, 8, target, 100), {
      side: S!,
      batchSize: 8,
    });
    console.log(
      `${name}: RMSE ${m.rmse.toFixed(3)} abs rel ${m.absRel.toFixed(3)} δ1 ${pct(m.delta1)}`,
    );
  }
} else {
  throw new Error(`--task: got "${v.task}", expected seg, lin1 or lin4`);
}
