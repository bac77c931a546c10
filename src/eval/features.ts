// Frozen-backbone feature extraction (dinov2/eval/utils.py extract_features): one inference graph,
// fed fixed-size batches; the last batch is zero-padded. The weights are baked in as constants, or
// fed as graph inputs when the same architecture runs with changing weights (the k-NN monitor
// during training): then one session serves every checkpoint.
import { type HostTensor, input, numel, ShapeError } from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import { bindConstants, bindInputs } from "../nn/module.js";
import type { Runtime } from "../runtime/index.js";

export interface ExtractOptions {
  /** Images per graph run; the graph's fixed batch dimension. */
  readonly batchSize: number;
  /** Also return the (normed) patch tokens. */
  readonly withPatches?: boolean;
  /** Square input side in pixels; default the backbone's imgSize. */
  readonly imageSize?: number;
  /**
   * "constants" (default): weights baked into the graph, one session per checkpoint.
   * "inputs": weights fed at every run, one session per architecture and batch shape.
   */
  readonly weightsAs?: "constants" | "inputs";
}

/** Prefix of the graph inputs that carry the weights with `weightsAs: "inputs"`. */
export const WEIGHT_INPUT_PREFIX = "weights.";

export interface ExtractedFeatures {
  readonly count: number;
  readonly dim: number;
  /** x_norm_clstoken of every image, [count, dim]. */
  readonly cls: Float32Array;
  /** x_norm_patchtokens, [count, numPatches, dim]; only with `withPatches`. */
  readonly patches?: Float32Array;
  readonly numPatches: number;
}

/** Any chunking of images: each Float32Array holds whole images [n, C, S, S] (n may vary). */
export type ImageBatches = AsyncIterable<Float32Array> | Iterable<Float32Array>;

/**
 * Runs the backbone over every image and collects its CLS (and optionally patch) features.
 * @example await extractFeatures(rt, createBackbone(opts), [imgs], { batchSize: 64 }) // cls: [N, D]
 */
export async function extractFeatures(
  runtime: Runtime,
  backbone: Backbone,
  images: ImageBatches,
  opts: ExtractOptions,
): Promise<ExtractedFeatures> {
  const o = backbone.options;
  const side = opts.imageSize ?? o.imgSize;
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ShapeError(
      "extractFeatures",
      `batchSize must be a positive integer; got ${batchSize}`,
    );
  }
  const weightFeeds: Record<string, HostTensor> = {};
  if (opts.weightsAs === "inputs") {
    for (const key of bindInputs(backbone.model, WEIGHT_INPUT_PREFIX).keys()) {
      const w = backbone.weights.get(key);
      if (!w) throw new ShapeError("extractFeatures", `the weights lack ${key}`);
      weightFeeds[WEIGHT_INPUT_PREFIX + key] = w;
    }
  } else bindConstants(backbone.model, backbone.weights);
  const shape = [batchSize, o.inChans, side, side];
  const f = backbone.model.forwardFeatures(input("images", shape));
  const exe = await runtime.compile(
    opts.withPatches ? { cls: f.clsToken, patches: f.patchTokens } : { cls: f.clsToken },
  );
  for (const name of Object.keys(weightFeeds)) if (!exe.inputs.has(name)) delete weightFeeds[name];
  const numPatches = f.patchTokens.shape[1]!;
  const imageSize = numel(shape) / batchSize;
  const cls: Float32Array[] = [];
  const patches: Float32Array[] = [];
  let count = 0;
  const run = async (batch: Float32Array, n: number) => {
    const out = await exe.run({ ...weightFeeds, images: { dtype: "float32", shape, data: batch } });
    cls.push((out.cls!.data as Float32Array).slice(0, n * o.embedDim));
    if (opts.withPatches) {
      patches.push((out.patches!.data as Float32Array).slice(0, n * numPatches * o.embedDim));
    }
    count += n;
  };
  const pending = new Float32Array(batchSize * imageSize);
  let filled = 0;
  for await (const chunk of images) {
    if (chunk.length % imageSize !== 0) {
      throw new ShapeError(
        "extractFeatures",
        `an image batch has ${chunk.length} values; expected a multiple of ${o.inChans}×${side}×${side} = ${imageSize}`,
        { hint: "pass batches laid out [n, C, S, S] with S = imageSize" },
      );
    }
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, pending.length - filled * imageSize);
      pending.set(chunk.subarray(at, at + take), filled * imageSize);
      filled += take / imageSize;
      at += take;
      if (filled === batchSize) {
        await run(pending, batchSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) {
    pending.fill(0, filled * imageSize);
    await run(pending, filled);
  }
  return {
    count,
    dim: o.embedDim,
    cls: concatFloat32(cls),
    ...(opts.withPatches ? { patches: concatFloat32(patches) } : {}),
    numPatches,
  };
}

function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
