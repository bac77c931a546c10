// The DINOv2 backbones: DinoVisionTransformer, its presets, and building one from weights.
export { type Backbone, createBackbone, initWeights, loadBackbone } from "./backbone.js";
export {
  FusedUnsupportedError,
  fusedForwardFeatures,
  fusedUnsupported,
} from "./fused-forward.js";
export { type OfficialVitConfig, vitOptionsFromOfficial } from "./official-config.js";
export { interpolatePosEmbed, type PosEmbedInterp } from "./pos-embed.js";
export {
  isVitPreset,
  VIT_DEFAULTS,
  VIT_PRESETS,
  type VitOptions,
  type VitPreset,
  vitOptions,
} from "./presets.js";
export {
  blockOptions,
  type CropGroup,
  DinoVisionTransformer,
  type Features,
  type Intermediate,
  type IntermediateOptions,
} from "./vision-transformer.js";
