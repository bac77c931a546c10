// The architecture flags of every command that takes --model: a bare checkpoint (a .pth or
// .safetensors without config.json or our __metadata__) does not record its number of heads, so
// --num-heads, --arch (a preset) or --config (the training config it was trained with) says it.
import { loadConfigFile, resolveConfig } from "../config/index.js";
import { type ResolvedModel, resolveModel } from "../inference/model-spec.js";
import { UnknownHeadsError } from "../models/backbone.js";
import { isVitPreset, VIT_PRESETS, type VitOptions, vitOptions } from "../models/presets.js";
import { stepConfigFromTrain } from "../train/from-config.js";
import type { Flags } from "./command.js";
import { asUsage, intFlag } from "./flag-values.js";
import { UsageError } from "./usage-error.js";

export const MODEL_ARCH_FLAGS = {
  arch: {
    type: "string",
    valueName: "PRESET",
    description: `architecture of a bare checkpoint: ${Object.keys(VIT_PRESETS).join(", ")}`,
  },
  "num-heads": {
    type: "string",
    valueName: "N",
    description: "attention heads of a bare checkpoint (other widths than the released four)",
  },
  config: {
    type: "string",
    valueName: "FILE",
    description: "the training config (YAML) a bare checkpoint was trained with",
  },
} as const satisfies Flags;

type ArchFlagValues = { readonly [K in keyof typeof MODEL_ARCH_FLAGS]?: string | undefined };

/** What the weights cannot show; the shapes-derived fields are checked against the weights. */
const ARCH_FIELDS = [
  "embedDim",
  "depth",
  "numHeads",
  "patchSize",
  "mlpRatio",
  "ffnLayer",
  "numRegisterTokens",
  "layerNormEps",
  "interpolateAntialias",
  "interpolateOffset",
  "qkvBias",
  "projBias",
  "ffnBias",
] as const satisfies readonly (keyof VitOptions)[];

/** The architecture the flags give (none given: {}); at most one of --arch and --config. */
export function archFromFlags(v: ArchFlagValues): Partial<VitOptions> {
  if (v.arch !== undefined && v.config !== undefined)
    throw new UsageError("--arch and --config both give the architecture; pass one", {
      flag: "--arch",
    });
  let full: VitOptions | undefined;
  if (v.arch !== undefined) {
    if (!isVitPreset(v.arch))
      throw new UsageError(
        `--arch: got "${v.arch}", expected one of ${Object.keys(VIT_PRESETS).join(", ")}`,
        { flag: "--arch" },
      );
    full = vitOptions(v.arch);
  } else if (v.config !== undefined) {
    const path = v.config;
    full = asUsage(
      "--config",
      () => stepConfigFromTrain(resolveConfig({ file: loadConfigFile(path) })).arch.backbone,
    );
  }
  const out: Partial<Record<keyof VitOptions, unknown>> = {};
  if (full) for (const k of ARCH_FIELDS) out[k] = full[k];
  if (v["num-heads"] !== undefined) out.numHeads = intFlag(v["num-heads"], "num-heads", { min: 1 });
  return out as Partial<VitOptions>;
}

/**
 * Resolves --model with the architecture flags; a bare checkpoint whose heads cannot be told
 * fails naming the flags that say it.
 */
export function resolveModelFlags(model: string, v: ArchFlagValues): ResolvedModel {
  const arch = archFromFlags(v);
  try {
    return asUsage("--model", () => resolveModel(model, 0, arch));
  } catch (e) {
    if (!(e instanceof UnknownHeadsError)) throw e;
    throw new UsageError(
      `--model ${model}: a ${e.embedDim}-wide checkpoint that does not record its architecture; the number of attention heads cannot be told from the weights`,
      {
        flag: "--model",
        hint: "pass --num-heads N, --arch PRESET, or --config <the training config>",
      },
    );
  }
}
