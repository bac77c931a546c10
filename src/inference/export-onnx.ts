// Exports a backbone as a Hugging Face-style ONNX model: model.onnx (Dinov2Model outputs), its
// external data file when needed, and config.json + preprocessor_config.json beside it.
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../config/errors.js";
import { DTYPE_BYTES, type ValueType } from "../core/index.js";
import { archMetadata, fsyncDirectory, optionsToHfConfig } from "../io/index.js";
import type { Backbone } from "../models/backbone.js";
import { type LoweredModel, lowerToOnnx } from "../onnx/index.js";
import { hfGraph } from "./backbone-graph.js";
import { lowerDynamicBatch } from "./dynamic-batch.js";
import { quantizeLinears } from "./int8.js";
import { type EvalTransform, evalTransform } from "./preprocess.js";

export interface ExportOnnxOptions {
  /** Square input side baked into the graph, a multiple of the patch size (default 224). */
  readonly imageSize?: number;
  /** Make the batch axis symbolic ("batch"); otherwise the batch is `batchSize`. */
  readonly isDynamicBatch?: boolean;
  /** The fixed batch when the batch is not dynamic (default 1). */
  readonly batchSize?: number;
  /** Weights in `<model>.data` beside the model: "auto" (default) when they near 2 GiB. */
  readonly externalData?: boolean | "auto";
  /**
   * Linear layers in int8 (inference/int8.ts): com.microsoft DynamicQuantizeMatMul nodes, which
   * onnxruntime runs; other runtimes may not.
   */
  readonly int8?: boolean;
  /**
   * onnxruntime's fused CPU kernels (com.microsoft Attention, SkipLayerNormalization, BiasGelu;
   * models/fused-forward.ts) instead of plain ONNX: faster on onnxruntime, unreadable elsewhere.
   * With int8 too, the linear layers outside Attention (proj, fc1, fc2) are quantised and the
   * QKV projection inside it stays fp32, as the embedder's int8 + fused graph (the fastest int8).
   */
  readonly fused?: boolean;
}

export interface ExportedOnnx {
  readonly modelPath: string;
  /** The external data file, when one was written. */
  readonly dataPath?: string;
  readonly configPath: string;
  readonly preprocessorPath: string;
  /** Graph inputs; -1 marks the dynamic batch axis. */
  readonly inputs: ReadonlyMap<string, ValueType>;
  readonly outputNames: readonly string[];
  readonly bytesWritten: number;
}

/** Above this much weight, the protobuf would get too close to its 2 GiB limit. */
const AUTO_EXTERNAL_BYTES = 1.8 * 2 ** 30;

/**
 * Writes `outputPath` (ONNX, opset 17): input `pixel_values` [B, 3, S, S], outputs
 * `last_hidden_state` [B, N, D] and `pooler_output` [B, D], as Dinov2Model returns them.
 */
export async function exportOnnx(
  backbone: Backbone,
  outputPath: string,
  opts: ExportOnnxOptions = {},
): Promise<ExportedOnnx> {
  const transform = evalTransform(opts.imageSize ?? 224, backbone.options.patchSize);
  const batch = opts.batchSize ?? 1;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new ConfigError("batchSize", `batch size must be a positive integer; got ${batch}`);
  }
  const weightBytes = [...backbone.weights.values()].reduce(
    (n, w) => n + w.data.length * DTYPE_BYTES[w.dtype],
    0,
  );
  const isExternal =
    opts.externalData === true ||
    ((opts.externalData ?? "auto") === "auto" && weightBytes > AUTO_EXTERNAL_BYTES);
  const dataFile = `${basename(outputPath)}.data`;
  const lowerOpts = { graphName: "dinov2", ...(isExternal ? { externalDataFile: dataFile } : {}) };
  const build = (b: number) => {
    const g = hfGraph(backbone, b, transform.cropPx, { fused: opts.fused ?? false });
    return opts.int8 ? quantizeLinears(g).outputs : g;
  };
  const model = opts.isDynamicBatch
    ? lowerDynamicBatch(build, lowerOpts)
    : lowerToOnnx(build(batch), lowerOpts);

  const dir = dirname(outputPath);
  await mkdir(dir, { recursive: true });
  const dataPath = join(dir, dataFile);
  let bytesWritten = await writeAtomically(outputPath, [model.bytes]);
  if (isExternal) bytesWritten += await writeAtomically(dataPath, model.externalData);
  const configPath = join(dir, "config.json");
  const preprocessorPath = join(dir, "preprocessor_config.json");
  // HF's config fields plus the full architecture under "dinov2_ts.arch" (interpolation and
  // LayerScale settings HF's Dinov2Config has no field for).
  const config = { ...optionsToHfConfig(backbone.options), ...archJson(backbone.options) };
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(preprocessorPath, `${JSON.stringify(preprocessorConfig(transform), null, 2)}\n`);
  return {
    modelPath: outputPath,
    ...(isExternal ? { dataPath } : {}),
    configPath,
    preprocessorPath,
    inputs: model.inputs,
    outputNames: model.outputNames,
    bytesWritten,
  };
}

/** BitImageProcessor settings equal to the eval transform (as facebook/dinov2-* ship them). */
export function preprocessorConfig(t: EvalTransform): Record<string, unknown> {
  return {
    crop_size: { height: t.cropPx, width: t.cropPx },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: t.mean,
    image_processor_type: "BitImageProcessor",
    image_std: t.std,
    resample: 3, // PIL.Image.BICUBIC
    rescale_factor: 1 / 255,
    size: { shortest_edge: t.resizePx },
  };
}

/** Writes the chunks to a temporary file, then renames it over `path`; returns the byte count. */
async function writeAtomically(
  path: string,
  chunks: LoweredModel["externalData"],
): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  let n = 0;
  try {
    for (const c of chunks) {
      for (let at = 0; at < c.length; ) at += (await fh.write(c, at)).bytesWritten;
      n += c.length;
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    fsyncDirectory(dirname(path));
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return n;
}

function archJson(options: Backbone["options"]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(archMetadata(options)).map(([k, v]) => [k, JSON.parse(v) as unknown]),
  );
}
