// `--model` for the inference commands: a checkpoint file, a Hugging Face folder, or a preset
// name, which builds that architecture with random weights (for trying things out, benchmarks).
import { existsSync } from "node:fs";
import { ConfigError } from "../config/errors.js";
import { type Backbone, createBackbone, loadBackbone } from "../models/backbone.js";
import { isVitPreset, VIT_PRESETS, type VitOptions, vitOptions } from "../models/presets.js";

export interface ResolvedModel {
  readonly backbone: Backbone;
  /** One line for logs, e.g. "vits14 with random weights (seed 0)". */
  readonly description: string;
  readonly isRandom: boolean;
}

/**
 * A path that exists is loaded; otherwise a preset name gives random weights from `seed`.
 * `arch` fills in what a bare checkpoint does not record (e.g. numHeads); the weights' shapes
 * are still checked against it.
 */
export function resolveModel(
  spec: string,
  seed = 0,
  arch: Partial<VitOptions> = {},
): ResolvedModel {
  if (!existsSync(spec) && isVitPreset(spec)) {
    return {
      backbone: createBackbone(vitOptions(spec, arch), seed),
      description: `${spec} with random weights (seed ${seed})`,
      isRandom: true,
    };
  }
  if (!existsSync(spec)) {
    throw new ConfigError("model", `"${spec}" is not a file, a folder or a preset name`, {
      hint: `give a .pth/.safetensors file, a Hugging Face folder, or one of ${Object.keys(VIT_PRESETS).join(", ")} (random weights)`,
    });
  }
  const backbone = loadBackbone(spec, arch);
  const o = backbone.options;
  return {
    backbone,
    description: `${spec} (ViT ${o.embedDim}d x ${o.depth}, patch ${o.patchSize}, ${o.numRegisterTokens} registers)`,
    isRandom: false,
  };
}
