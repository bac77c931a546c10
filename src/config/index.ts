// Public API of config/: the schema, presets, resolution and ConfigError.
export { ARCH_DIMS, ARCH_NAMES, type ArchDims, type ArchName } from "./archs.js";
export { loadConfigFile, saveResolvedConfig } from "./config-file.js";
export { ConfigError, type ConfigErrorContext } from "./errors.js";
export { PRESET_NAMES, PRESETS, type PresetName } from "./presets.js";
export {
  applySet,
  type BackboneDims,
  type Derived,
  deriveValues,
  parseConfig,
  type ResolvedConfig,
  type ResolveOptions,
  resolveConfig,
} from "./resolve.js";
export {
  BLUR_MODES,
  CENTERINGS,
  type ConfigPatch,
  configKeysAt,
  type DeepPartial,
  type DeepReadonly,
  FFN_LAYERS,
  PRECISIONS,
  SCALING_RULES,
  SHARDING_STRATEGIES,
  TrainConfig,
} from "./schema.js";
