// Building a backbone: random initialisation, or released weights from any checkpoint layout,
// validated against the model's parameter shapes before anything runs.
import type { HostTensor } from "../core/index.js";
import {
  CheckpointError,
  type CheckpointOptions,
  type LoadedCheckpoint,
  loadCheckpoint,
  validateStateDict,
} from "../io/index.js";
import { InitRng } from "../nn/init.js";
import { type Module, namedParams, paramShapes } from "../nn/module.js";
import { VIT_DEFAULTS, type VitOptions } from "./presets.js";
import { DinoVisionTransformer } from "./vision-transformer.js";

export interface Backbone {
  readonly model: DinoVisionTransformer;
  /** Weights under the official state_dict keys. */
  readonly weights: ReadonlyMap<string, HostTensor>;
  readonly options: VitOptions;
}

/**
 * A checkpoint that records no architecture (no config.json, no __metadata__) and whose width is
 * not a multiple of 64: the number of attention heads cannot be told from the weights.
 */
export class UnknownHeadsError extends CheckpointError {
  constructor(
    file: string,
    readonly embedDim: number,
  ) {
    super(file, `cannot tell the number of attention heads of a ${embedDim}-wide model`, {
      hint: "give numHeads (loadBackbone's overrides); the checkpoint records no architecture",
    });
  }
}

/** Fresh weights for every parameter of `module`, drawn from `seed`. */
export function initWeights(module: Module, seed: number): Map<string, HostTensor> {
  const rng = new InitRng(seed);
  return new Map(namedParams(module).map(([k, p]) => [k, p.init(p.shape, rng)]));
}

/** A backbone with the official random initialisation. */
export function createBackbone(options: VitOptions, seed = 0): Backbone {
  const model = new DinoVisionTransformer(options);
  return { model, weights: initWeights(model, seed), options };
}

/**
 * Loads released or trained weights: a .pth (bare state_dict or {"teacher": ...}), a
 * .safetensors file, or a Hugging Face directory. Options come from config.json or the weights'
 * shapes; `overrides` win. Refuses a checkpoint that does not fit, naming the first bad key.
 */
export function loadBackbone(path: string, overrides: Partial<VitOptions> = {}): Backbone {
  const ckpt = loadCheckpoint(path, overrides.numHeads ? { numHeads: overrides.numHeads } : {});
  return backboneFromCheckpoint(ckpt, overrides);
}

/** A backbone from weights already read and normalised (see loadBackbone). */
export function backboneFromCheckpoint(
  ckpt: LoadedCheckpoint,
  overrides: Partial<VitOptions> = {},
): Backbone {
  const options: { -readonly [K in keyof VitOptions]: VitOptions[K] } = {
    ...VIT_DEFAULTS,
    ...definedOnly(ckpt.options),
    ...overrides,
  };
  if (ckpt.options.numHeads === undefined && overrides.numHeads === undefined) {
    // The weights' shapes do not show the head count; every DINOv2 model has 64 dims per head.
    if (options.embedDim % 64 !== 0) throw new UnknownHeadsError(ckpt.file, options.embedDim);
    options.numHeads = options.embedDim / 64;
  }
  const model = new DinoVisionTransformer(options);
  validateStateDict(paramShapes(model), ckpt.stateDict, ckpt.file);
  return { model, weights: ckpt.stateDict, options };
}

function definedOnly(o: CheckpointOptions): Partial<VitOptions> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  ) as Partial<VitOptions>;
}
