// `dinov2 convert IN OUT`: any checkpoint the loader reads, written as official-key safetensors,
// a Hugging Face folder, or the official .pth layout, without Python.
import { statSync } from "node:fs";
import {
  CONVERT_FORMATS,
  type ConvertFormat,
  convertCheckpoint,
  DEFAULT_MAX_SHARD_BYTES,
  formatOfPath,
} from "../../io/index.js";
import { defineCommand } from "../command.js";
import { choiceFlag, intFlag } from "../flag-values.js";
import { UsageError } from "../usage-error.js";

export const convertCommand = defineCommand({
  name: "convert",
  summary: "convert a checkpoint between .pth, safetensors and Hugging Face folders",
  positionals: "<input> <output>",
  description: [
    "Reads any checkpoint the other commands read (official or training .pth of any size,",
    "safetensors, HF folder with single or sharded weights) and writes its backbone as:",
    "  safetensors  official keys; the architecture in __metadata__ (dinov2_ts.arch)",
    "  hf           config.json + model.safetensors (HF keys), sharded over --max-shard-size",
    "               with model.safetensors.index.json, as save_pretrained does",
    "  pth          the official state_dict layout, as torch.save writes it (torch.load reads",
    "               it); a .pth has no place for the architecture, which is read off the shapes",
    "The format defaults to the output's extension (.safetensors, .pth/.pt/.bin), else hf.",
    "Tensors are copied bit for bit (BF16 storages are widened to float32 on reading).",
  ].join("\n"),
  flags: {
    format: {
      type: "string",
      valueName: CONVERT_FORMATS.join("|"),
      description: "output format (default: from the output's extension)",
    },
    branch: {
      type: "string",
      valueName: "teacher|student",
      description: "network of a training checkpoint (default: teacher)",
    },
    "num-heads": {
      type: "string",
      valueName: "N",
      description: "attention heads, for widths other than the released models' (S/B/L/g)",
    },
    "max-shard-size": {
      type: "string",
      valueName: "BYTES",
      default: String(DEFAULT_MAX_SHARD_BYTES),
      description: "hf: the most bytes of tensors per shard file",
    },
  },
  examples: [
    "dinov2 convert dinov2_vitg14_pretrain.pth vitg14.safetensors",
    "dinov2 convert dinov2_vitg14_reg4_pretrain.pth dinov2-giant-reg/ --format hf",
    "dinov2 convert runs/x/eval/training_12499/teacher_checkpoint.pth vits14.pth",
  ],
  run: async (flags, ctx) => {
    const [input, output, ...rest] = ctx.positionals;
    if (input === undefined || output === undefined || rest.length > 0) {
      throw new UsageError(`expected <input> <output>, got ${ctx.positionals.length} paths`, {
        hint: "run `dinov2 convert --help`",
      });
    }
    if (statSync(input, { throwIfNoEntry: false }) === undefined) {
      throw new UsageError(`<input> ${input}: no such file or folder`);
    }
    const format: ConvertFormat =
      flags.format === undefined
        ? formatOfPath(output)
        : choiceFlag(flags.format, "format", CONVERT_FORMATS);
    const branch =
      flags.branch === undefined
        ? undefined
        : choiceFlag(flags.branch, "branch", ["teacher", "student"] as const);
    const numHeads =
      flags["num-heads"] === undefined
        ? undefined
        : intFlag(flags["num-heads"], "num-heads", { min: 1 });
    const maxShardBytes = intFlag(flags["max-shard-size"], "max-shard-size", { min: 1 });
    const t0 = performance.now();
    const r = convertCheckpoint(input, output, {
      format,
      maxShardBytes,
      ...(branch ? { branch } : {}),
      ...(numHeads ? { numHeads } : {}),
    });
    const o = r.options;
    ctx.out(
      [
        `read ${input} (${r.inputLayout} layout): ViT ${o.embedDim}d x ${o.depth}, patch ${o.patchSize}, ${o.numRegisterTokens ?? 0} registers, ${r.tensors} tensors`,
        `wrote ${format}: ${r.files.join(", ")} (${(r.bytes / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      ].join("\n"),
    );
    return 0;
  },
});
