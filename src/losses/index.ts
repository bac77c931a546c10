// DINOv2's losses: DINO CLS cross-entropy, iBOT masked-patch loss, KoLeo, and shared centering.
export {
  centerUpdate,
  maskedRowMean,
  type SinkhornOptions,
  sinkhornKnopp,
  softmaxCenter,
} from "./centering.js";
export { dinoCrossEntropy } from "./dino-cls-loss.js";
export { ibotMaskedLoss } from "./ibot-patch-loss.js";
export { koleoLoss } from "./koleo-loss.js";
