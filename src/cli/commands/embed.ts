// `dinov2 embed`: CLS features (optionally patch and register tokens) of image files, written as
// .npy or .safetensors with a .jsonl index; progress on stderr; undecodable files skipped.
import { DataError } from "../../data/errors.js";
import {
  checkImageSize,
  type EmbedProgress,
  embed,
  featureFormat,
  listImageInputs,
  writeFeatures,
} from "../../inference/index.js";
import { PROVIDERS } from "../../runtime/index.js";
import { defineCommand } from "../command.js";
import { asUsage, choiceFlag, intFlag, requiredFlag } from "../flag-values.js";
import { MODEL_ARCH_FLAGS, resolveModelFlags } from "../model-flags.js";
import { createProgressBar, type ProgressBar } from "../progress.js";
import { UsageError } from "../usage-error.js";

export const embedCommand = defineCommand({
  name: "embed",
  summary: "embed images: CLS features as .npy or .safetensors, with a .jsonl index of paths",
  description: [
    "Each image goes through the official eval transform: resize the shorter side to",
    "round(S*256/224) (antialiased bicubic), center crop S, ImageNet normalisation. Folders are",
    "searched recursively. Files that are not images or cannot be decoded are skipped and listed",
    "on stderr; the run goes on. Row i of the features is line i of <output>.jsonl.",
    "With .npy, patch and register tokens go to <stem>.patch_tokens.npy / .register_tokens.npy.",
  ].join("\n"),
  positionals: "[more inputs...]",
  flags: {
    model: {
      type: "string",
      valueName: "PATH|PRESET",
      description: "checkpoint file, Hugging Face folder, or a preset name (random weights)",
    },
    ...MODEL_ARCH_FLAGS,
    input: {
      type: "string",
      valueName: "PATH",
      description: "image file or folder (more may follow as positionals)",
    },
    output: {
      type: "string",
      valueName: "FILE",
      description: "features file ending in .npy or .safetensors",
    },
    "image-size": {
      type: "string",
      valueName: "PX",
      default: "224",
      description: "crop side, a multiple of the patch size",
    },
    "batch-size": { type: "string", valueName: "N", default: "32", description: "images per run" },
    "patch-tokens": { type: "boolean", description: "also write the patch tokens [N, P, D]" },
    registers: { type: "boolean", description: "also write the register tokens [N, R, D]" },
    provider: {
      type: "string",
      valueName: "NAME",
      default: "cpu",
      description: `execution provider: ${PROVIDERS.join(", ")}`,
    },
    threads: {
      type: "string",
      valueName: "N",
      description: "intra-op threads (default: one per physical core)",
    },
    int8: {
      type: "boolean",
      description: "linear layers in int8 (dynamic quantisation; faster on CPUs with VNNI)",
    },
  },
  examples: [
    "dinov2 embed --model dinov2-small/ --input photos/ --output feats.npy",
    "dinov2 embed --model vits14 --input a.jpg b.png --output feats.safetensors --patch-tokens",
  ],
  run: async (flags, ctx) => {
    const model = requiredFlag(flags.model, "model", "embed");
    const output = requiredFlag(flags.output, "output", "embed");
    const inputs = [requiredFlag(flags.input, "input", "embed"), ...ctx.positionals];
    asUsage("--output", () => featureFormat(output));
    const batchSize = intFlag(flags["batch-size"], "batch-size", { min: 1 });
    const imageSize = intFlag(flags["image-size"], "image-size", { min: 1 });
    const provider = choiceFlag(flags.provider, "provider", PROVIDERS);
    const threads =
      flags.threads === undefined ? undefined : intFlag(flags.threads, "threads", { min: 1 });
    const { files, skipped: notImages } = await listImageInputs(inputs);
    const { backbone, description } = resolveModelFlags(model, flags);
    asUsage("--image-size", () => checkImageSize(imageSize, backbone.options.patchSize));
    if (flags.registers && backbone.options.numRegisterTokens === 0) {
      throw new UsageError("--registers: the model has no register tokens", {
        flag: "--registers",
      });
    }
    log(
      `embedding ${files.length} files with ${description}, ${imageSize}x${imageSize}, batch ${batchSize}${flags.int8 ? ", int8 linear layers" : ""}`,
    );
    const bar = progressBar();
    const result = await embed(files, {
      backbone,
      imageSize,
      batchSize,
      provider,
      ...(threads ? { threads } : {}),
      ...(flags.int8 ? { int8: true } : {}),
      patchTokens: flags["patch-tokens"],
      registers: flags.registers,
      onProgress: bar,
    });
    const skipped = [...notImages, ...result.skipped];
    if (skipped.length > 0) {
      log(`skipped ${skipped.length} file${skipped.length === 1 ? "" : "s"}:`);
      for (const s of skipped) log(`  ${s.path}: ${s.reason}`);
    }
    if (result.count === 0) {
      throw new DataError(
        "embed",
        inputs.join(", "),
        `none of the ${skipped.length} files could be decoded`,
      );
    }
    const { files: written } = await writeFeatures(output, result);
    ctx.out(
      `embedded ${result.count} images (dim ${result.dim}), skipped ${skipped.length}; wrote ${written.join(", ")}`,
    );
    return 0;
  },
});

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The shared progress bar, created once the number of images is known. */
function progressBar(): (p: EmbedProgress) => void {
  let bar: ProgressBar | undefined;
  return (p) => {
    bar ??= createProgressBar({ total: p.total ?? 0, label: "embed", unit: "img" });
    const seen = p.done + p.skipped;
    bar.update(seen, p.skipped > 0 ? `${p.skipped} skipped` : undefined);
    if (p.total !== undefined && seen >= p.total) bar.finish();
  };
}
