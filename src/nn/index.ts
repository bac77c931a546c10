// Layers with parameters named like the official state_dict. Ports of dinov2/layers.
export { Attention, type AttentionOptions } from "./attention.js";
export {
  Block,
  type BlockDrop,
  type BlockOptions,
  type ResidualMask,
  type ResidualSubset,
} from "./block.js";
export { DinoHead, type DinoHeadOptions, WeightNormLinear } from "./dino-head.js";
export { Mlp, SwiGluFfn, swigluHidden } from "./ffn.js";
export { type Init, InitRng, kaimingUniform, normal, truncNormal } from "./init.js";
export { LayerNorm, LayerScale, Linear, type LinearOptions } from "./layers.js";
export {
  bindConstants,
  bindInputs,
  Module,
  namedParams,
  Param,
  paramShapes,
  snakeCase,
} from "./module.js";
export { ConvWeights, PatchEmbed } from "./patch-embed.js";
export { pack, type TokenGroup, unpack } from "./tokens.js";
