// Inference: the eval transform, embedding images with one compiled graph, and ONNX export.
export {
  canFuse,
  type EmbedGraphOptions,
  embedGraph,
  hfGraph,
  PIXEL_VALUES,
  tokenCounts,
} from "./backbone-graph.js";
export {
  type BatchGraphBuilder,
  DynamicBatchError,
  type DynamicBatchOptions,
  lowerDynamicBatch,
} from "./dynamic-batch.js";
export {
  type Embeddings,
  type EmbedOptions,
  type EmbedProgress,
  embed,
  type ImageSource,
} from "./embed.js";
export {
  type BatchFeatures,
  createEmbedder,
  Embedder,
  type EmbedderOptions,
  usesFused,
} from "./embedder.js";
export {
  type ExportedOnnx,
  type ExportOnnxOptions,
  exportOnnx,
  preprocessorConfig,
} from "./export-onnx.js";
export {
  FEATURE_FORMATS,
  featureFormat,
  npyHeader,
  type WrittenFeatures,
  writeFeatures,
  writeNpy,
} from "./features-file.js";
export { type ImageInputs, listImageInputs } from "./image-inputs.js";
export { type QuantizeReport, quantizeLinears } from "./int8.js";
export { loadImage } from "./load-image.js";
export { type ResolvedModel, resolveModel } from "./model-spec.js";
export {
  checkImageSize,
  type EvalTransform,
  evalTransform,
  preprocessInto,
  resizedSize,
} from "./preprocess.js";
