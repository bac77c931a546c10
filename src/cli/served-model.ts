// The ONNX model `dinov2 serve` hands its page: an export folder's model.onnx as it is, or any
// other --model (checkpoint, Hugging Face folder, preset) exported with export-onnx.ts (dynamic
// batch) into a temporary folder that the caller removes.
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkImageSize, exportOnnx, resolveModel } from "../inference/index.js";
import { hfConfigToOptions } from "../io/index.js";
import { asUsage } from "./flag-values.js";
import { UsageError } from "./usage-error.js";

export interface ServedModel {
  readonly modelFile: string;
  readonly description: string;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numRegisters: number;
  readonly dim: number;
  /** A folder we made for the export, to remove on exit. */
  readonly tempDir?: string;
}

export const DEFAULT_IMAGE_SIZE = 224;

/** `imageSize` undefined: the export's own size, or DEFAULT_IMAGE_SIZE when we export. */
export async function prepareServedModel(
  spec: string,
  imageSize: number | undefined,
  log: (line: string) => void,
): Promise<ServedModel> {
  const onnx = join(spec, "model.onnx");
  if (existsSync(spec) && statSync(spec).isDirectory() && existsSync(onnx)) {
    return exportedFolder(spec, onnx, imageSize);
  }
  const { backbone, description } = asUsage("--model", () => resolveModel(spec));
  const o = backbone.options;
  const size = imageSize ?? DEFAULT_IMAGE_SIZE;
  asUsage("--image-size", () => checkImageSize(size, o.patchSize));
  const tempDir = mkdtempSync(join(tmpdir(), "dinov2-serve-"));
  log(`exporting ${description} to ONNX at ${size}x${size}…`);
  const r = await exportOnnx(backbone, join(tempDir, "model.onnx"), {
    imageSize: size,
    isDynamicBatch: true,
    externalData: false,
  });
  log(`  ${(r.bytesWritten / 2 ** 20).toFixed(1)} MiB`);
  return {
    modelFile: r.modelPath,
    description,
    imageSize: size,
    patchSize: o.patchSize,
    numRegisters: o.numRegisterTokens,
    dim: o.embedDim,
    tempDir,
  };
}

/** A folder written by `dinov2 export-onnx`: model.onnx, config.json, preprocessor_config.json. */
function exportedFolder(dir: string, onnx: string, imageSize: number | undefined): ServedModel {
  const read = (name: string): Record<string, unknown> => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new UsageError(`--model: ${dir} has model.onnx but no ${name}`, {
        flag: "--model",
        hint: "serve a folder written by `dinov2 export-onnx`, or give the checkpoint",
      });
    }
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  };
  if (existsSync(`${onnx}.data`)) {
    throw new UsageError(`--model: ${onnx} keeps its weights in model.onnx.data`, {
      flag: "--model",
      hint: "the page loads one file; export a model under 1.8 GiB without --external-data",
    });
  }
  const o = hfConfigToOptions(read("config.json"), join(dir, "config.json"));
  const crop = (read("preprocessor_config.json").crop_size ?? {}) as { height?: unknown };
  const size = crop.height;
  if (typeof size !== "number") {
    throw new UsageError(`--model: ${join(dir, "preprocessor_config.json")} has no crop_size`, {
      flag: "--model",
    });
  }
  if (imageSize !== undefined && imageSize !== size) {
    throw new UsageError(`--image-size ${imageSize}: ${onnx} was exported at ${size}`, {
      flag: "--image-size",
      hint: `leave --image-size out, or export again with --image-size ${imageSize}`,
    });
  }
  return {
    modelFile: onnx,
    description: `${onnx} (ViT ${o.embedDim}d, patch ${o.patchSize}, ${o.numRegisterTokens} registers)`,
    imageSize: size,
    patchSize: o.patchSize ?? 14,
    numRegisters: o.numRegisterTokens ?? 0,
    dim: o.embedDim ?? 0,
  };
}
