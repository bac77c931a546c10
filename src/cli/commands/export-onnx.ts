// `dinov2 export-onnx`: the backbone as a Hugging Face-style ONNX model (Dinov2Model outputs),
// with config.json and preprocessor_config.json beside it, for onnxruntime and transformers.js.
import { fmtShape } from "../../core/index.js";
import { checkImageSize, exportOnnx } from "../../inference/index.js";
import { defineCommand } from "../command.js";
import { asUsage, intFlag, requiredFlag } from "../flag-values.js";
import { MODEL_ARCH_FLAGS, resolveModelFlags } from "../model-flags.js";

export const exportOnnxCommand = defineCommand({
  name: "export-onnx",
  summary: "export the backbone to ONNX (last_hidden_state, pooler_output) with HF config files",
  description: [
    "Writes the forward pass at a fixed image size: input pixel_values [B, 3, S, S], outputs",
    "last_hidden_state [B, N, D] (final norm over cls, registers, patches) and pooler_output",
    "[B, D], like Hugging Face's Dinov2Model; weights are constants. config.json and",
    "preprocessor_config.json (BitImageProcessor, the eval transform) go beside the model.",
    "Weights near or over 2 GiB go to <output>.data (forced with --external-data).",
    "With --dynamic-batch the outputs are still declared at the traced batch (2), so onnxruntime",
    "logs a shape warning at other batch sizes; the values are right.",
  ].join("\n"),
  flags: {
    model: {
      type: "string",
      valueName: "PATH|PRESET",
      description: "checkpoint file, Hugging Face folder, or a preset name (random weights)",
    },
    ...MODEL_ARCH_FLAGS,
    output: { type: "string", valueName: "FILE", description: "the .onnx file to write" },
    "image-size": {
      type: "string",
      valueName: "PX",
      default: "224",
      description: "input side, a multiple of the patch size",
    },
    "dynamic-batch": { type: "boolean", description: 'make the batch axis symbolic ("batch")' },
    "batch-size": {
      type: "string",
      valueName: "N",
      default: "1",
      description: "the fixed batch without --dynamic-batch",
    },
    "external-data": { type: "boolean", description: "write the weights to <output>.data" },
    int8: {
      type: "boolean",
      description:
        "linear layers in int8 (dynamic quantisation: com.microsoft DynamicQuantizeMatMul, for onnxruntime)",
    },
    fused: {
      type: "boolean",
      description:
        "onnxruntime's fused CPU kernels (com.microsoft Attention, SkipLayerNormalization, BiasGelu): for onnxruntime only; with --int8, the fastest int8 graph",
    },
  },
  examples: [
    "dinov2 export-onnx --model dinov2-small/ --output onnx/model.onnx --dynamic-batch",
    "dinov2 export-onnx --model vitg14 --image-size 518 --output g.onnx --external-data",
    "dinov2 export-onnx --model dinov2-small/ --output small-int8.onnx --int8",
    "dinov2 export-onnx --model dinov2-small/ --output small-ort.onnx --fused",
    "dinov2 export-onnx --model dinov2-small/ --output small-int8f.onnx --int8 --fused",
  ],
  run: async (flags, ctx) => {
    const model = requiredFlag(flags.model, "model", "export-onnx");
    const output = requiredFlag(flags.output, "output", "export-onnx");
    const imageSize = intFlag(flags["image-size"], "image-size", { min: 1 });
    const batchSize = intFlag(flags["batch-size"], "batch-size", { min: 1 });
    const { backbone, description } = resolveModelFlags(model, flags);
    asUsage("--image-size", () => checkImageSize(imageSize, backbone.options.patchSize));
    const r = await exportOnnx(backbone, output, {
      imageSize,
      batchSize,
      isDynamicBatch: flags["dynamic-batch"],
      ...(flags["external-data"] ? { externalData: true } : {}),
      ...(flags.int8 ? { int8: true } : {}),
      ...(flags.fused ? { fused: true } : {}),
    });
    const inputs = [...r.inputs].map(([name, t]) => `${name} ${t.dtype}${fmtShape(t.shape)}`);
    ctx.out(
      [
        `exported ${description}`,
        `  inputs: ${inputs.join(", ")}${flags["dynamic-batch"] ? " (-1: dynamic batch)" : ""}`,
        `  outputs: ${r.outputNames.join(", ")}`,
        `  wrote ${[r.modelPath, r.dataPath, r.configPath, r.preprocessorPath].filter(Boolean).join(", ")} (${(r.bytesWritten / 2 ** 20).toFixed(1)} MiB)`,
      ].join("\n"),
    );
    return 0;
  },
});
