// Frozen patch-feature maps for dense heads (segmentation, depth): get_intermediate_layers of the
// chosen blocks, reshaped to [B, C, h, w], optionally with the CLS token broadcast over the map, and
// cached on disk with the per-pixel targets so that training reads one batch at a time.
import { concat, expand, input, reshape, ShapeError, type Tensor } from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import type { DinoVisionTransformer } from "../models/vision-transformer.js";
import { bindConstants } from "../nn/module.js";
import type { Runtime } from "../runtime/index.js";
import { RowStore } from "./row-store.js";

export interface DenseFeatureSpec {
  /** 0-based block indices, in the order their maps are concatenated. */
  readonly layers: readonly number[];
  /** Apply the final norm to each layer (segmentation: yes; the depth heads: no). */
  readonly norm: boolean;
  /** After each layer's patch map, its CLS token broadcast over the map (the depth heads). */
  readonly withCls: boolean;
}

/** A batch of preprocessed images [n, 3, S, S] with per-pixel targets [n, S, S]. */
export interface DenseBatch {
  readonly pixels: Float32Array;
  readonly targets: Float32Array;
  readonly count: number;
}

export interface DenseCache {
  readonly features: RowStore;
  readonly targets: RowStore;
  readonly count: number;
  /** Channels and patch grid of each feature row [C, h, w]. */
  readonly channels: number;
  readonly grid: number;
  /** Image side S of each target row [S, S]. */
  readonly side: number;
  release(): void;
}

/** The official linear-depth out indices (S/B, L, g); other depths: four evenly spaced blocks. */
export function depthOutIndices(depth: number): number[] {
  const official: Readonly<Record<number, number[]>> = {
    12: [2, 5, 8, 11],
    24: [4, 11, 17, 23],
    40: [9, 19, 29, 39],
  };
  return official[depth] ?? [1, 2, 3, 4].map((k) => Math.round((k * depth) / 4) - 1);
}

/** Feature channels of a spec for a backbone of width `dim`. */
export function denseChannels(dim: number, spec: DenseFeatureSpec): number {
  return dim * spec.layers.length * (spec.withCls ? 2 : 1);
}

/** The feature map [B, C, h, w] of `images` [B, 3, S, S] (S a multiple of the patch size). */
export function denseFeatureMap(
  model: DinoVisionTransformer,
  images: Tensor,
  spec: DenseFeatureSpec,
): Tensor {
  const depth = model.blocks.length;
  if (spec.layers.length === 0 || spec.layers.some((l) => l < 0 || l >= depth)) {
    throw new ShapeError(
      "denseFeatureMap",
      `layers [${spec.layers}] must be non-empty block indices of a ${depth}-block backbone`,
    );
  }
  const outs = model.getIntermediateLayers(images, {
    n: spec.layers,
    reshape: true,
    norm: spec.norm,
  });
  const [b, d, h, w] = outs[0]!.patches.shape as [number, number, number, number];
  // getIntermediateLayers returns blocks in depth order; reorder to the order asked for.
  const sorted = [...spec.layers].sort((x, y) => x - y);
  const maps = spec.layers.flatMap((l) => {
    const o = outs[sorted.indexOf(l)]!;
    if (!spec.withCls) return [o.patches];
    return [o.patches, expand(reshape(o.cls, [b, d, 1, 1]), [b, d, h, w])];
  });
  return maps.length === 1 ? maps[0]! : concat(maps, 1);
}

/**
 * Runs the backbone over every batch and appends features and targets to disk stores.
 * @example const cache = await cacheDenseFeatures(rt, backbone, batches, spec, { batchSize: 8, side: 112 })
 */
export async function cacheDenseFeatures(
  runtime: Runtime,
  backbone: Backbone,
  batches: AsyncIterable<DenseBatch> | Iterable<DenseBatch>,
  spec: DenseFeatureSpec,
  opts: {
    readonly batchSize: number;
    readonly side: number;
    readonly onBatch?: (n: number) => void;
  },
): Promise<DenseCache> {
  const { batchSize, side } = opts;
  bindConstants(backbone.model, backbone.weights);
  const map = denseFeatureMap(backbone.model, input("images", [batchSize, 3, side, side]), spec);
  const exe = await runtime.compile({ features: map });
  const [, channels, grid] = map.shape as [number, number, number, number];
  const rowLength = channels * grid * grid;
  const features = RowStore.create(rowLength, "dinov2-dense-features-");
  const targets = RowStore.create(side * side, "dinov2-dense-targets-");
  const perImage = 3 * side * side;
  try {
    for await (const batch of batches) {
      for (let at = 0; at < batch.count; at += batchSize) {
        const n = Math.min(batchSize, batch.count - at);
        const pixels = new Float32Array(batchSize * perImage);
        pixels.set(batch.pixels.subarray(at * perImage, (at + n) * perImage));
        const out = await exe.run({
          images: { dtype: "float32", shape: [batchSize, 3, side, side], data: pixels },
        });
        features.append((out.features!.data as Float32Array).subarray(0, n * rowLength));
        targets.append(batch.targets.subarray(at * side * side, (at + n) * side * side));
        opts.onBatch?.(n);
      }
    }
  } catch (e) {
    features.release();
    targets.release();
    throw e;
  } finally {
    await exe.release();
  }
  return {
    features,
    targets,
    count: features.length,
    channels,
    grid,
    side,
    release: () => {
      features.release();
      targets.release();
    },
  };
}
