// Streaming frozen-backbone features: one inference graph (weights baked in as constants) run over
// fixed-size batches, each batch's outputs handed to a callback and then dropped. Memory is one
// batch of pixels plus what the callback keeps (a [N, dim] feature matrix at most), never the
// folder's pixels: a 5,000-image folder at 224² passes through 32 images at a time.
import { input, numel, ShapeError, type Tensor } from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import type { DinoVisionTransformer } from "../models/vision-transformer.js";
import { bindConstants } from "../nn/module.js";
import type { Runtime } from "../runtime/index.js";
import type { ImageBatches } from "./features.js";

/** Builds the graph's named outputs [B, ...] from the model and the image input [B, C, S, S]. */
export type FeatureHead = (model: DinoVisionTransformer, images: Tensor) => Record<string, Tensor>;

export interface StreamOptions {
  /** Images per graph run (the graph's fixed batch dimension); the last batch is zero-padded. */
  readonly batchSize: number;
  /** Square input side in pixels. */
  readonly imageSize: number;
}

/** One batch's outputs: every output's first `count` rows, [count, ...]. */
export type FeatureBatch = Readonly<Record<string, Float32Array>>;

/**
 * Runs `head` over every image and calls `onBatch(outputs, count)` once per graph run, in order.
 * @example await streamFeatures(rt, bb, batches, (m, x) => ({ cls: m.forwardFeatures(x).clsToken }), { batchSize: 32, imageSize: 224 }, (o, n) => keep(o.cls))
 */
export async function streamFeatures(
  runtime: Runtime,
  backbone: Backbone,
  images: ImageBatches,
  head: FeatureHead,
  opts: StreamOptions,
  onBatch: (outputs: FeatureBatch, count: number) => void | Promise<void>,
): Promise<number> {
  const { batchSize, imageSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ShapeError(
      "streamFeatures",
      `batchSize must be a positive integer; got ${batchSize}`,
    );
  }
  const o = backbone.options;
  bindConstants(backbone.model, backbone.weights);
  const shape = [batchSize, o.inChans, imageSize, imageSize];
  const outputs = head(backbone.model, input("images", shape));
  const rowSize = Object.fromEntries(
    Object.entries(outputs).map(([k, t]) => [k, numel(t.shape) / batchSize]),
  );
  const exe = await runtime.compile(outputs);
  const per = numel(shape) / batchSize;
  const pending = new Float32Array(batchSize * per);
  let filled = 0;
  let count = 0;
  const run = async (n: number) => {
    const out = await exe.run({ images: { dtype: "float32", shape, data: pending } });
    const batch: Record<string, Float32Array> = {};
    for (const k of Object.keys(outputs)) {
      batch[k] = (out[k]!.data as Float32Array).slice(0, n * rowSize[k]!);
    }
    count += n;
    await onBatch(batch, n);
  };
  for await (const chunk of images) {
    if (chunk.length % per !== 0) {
      throw new ShapeError(
        "streamFeatures",
        `an image batch has ${chunk.length} values; expected a multiple of ${o.inChans}×${imageSize}×${imageSize} = ${per}`,
        { hint: "pass batches laid out [n, C, S, S] with S = imageSize" },
      );
    }
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, pending.length - filled * per);
      pending.set(chunk.subarray(at, at + take), filled * per);
      filled += take / per;
      at += take;
      if (filled === batchSize) {
        await run(batchSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) {
    pending.fill(0, filled * per);
    await run(filled);
  }
  return count;
}

/** Grows a [rows, dim] matrix batch by batch without holding the batches. */
export class RowCollector {
  private data: Float32Array;
  rows = 0;
  constructor(readonly dim: number) {
    this.data = new Float32Array(64 * dim);
  }
  push(rows: Float32Array): void {
    const need = this.rows * this.dim + rows.length;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.data.length));
      grown.set(this.data.subarray(0, this.rows * this.dim));
      this.data = grown;
    }
    this.data.set(rows, this.rows * this.dim);
    this.rows += rows.length / this.dim;
  }
  /** The rows collected so far, [rows, dim] (a trimmed copy). */
  matrix(): Float32Array {
    return this.data.slice(0, this.rows * this.dim);
  }
}
