// Evaluation on frozen features: feature extraction, k-NN, linear probe, and the paper's pictures
// (patch PCA, patch matching) and loss curves as PNG.
export {
  type ExtractedFeatures,
  type ExtractOptions,
  extractFeatures,
  type ImageBatches,
} from "./features.js";
export {
  type KnnOptions,
  type KnnResult,
  knnEval,
  type Neighbours,
  nearestNeighbours,
} from "./knn.js";
export {
  type LinearProbeOptions,
  type LinearProbeResult,
  linearProbe,
  type ProbeHead,
} from "./linear-probe.js";
export { type FeatureSet, topKAccuracy } from "./metrics.js";
export {
  drawPatchMatches,
  type MatchPictureOptions,
  mutualNearestPatches,
  type PatchGrid,
  type PatchMatch,
} from "./patch-matching.js";
export {
  type Pca,
  type PcaPicture,
  type PcaPictureOptions,
  pcaPatchPicture,
  principalComponents,
} from "./pca.js";
export {
  formatTicks,
  lossCurveImage,
  lossCurvePng,
  type PlotOptions,
  type Series,
} from "./plot.js";
export {
  blankImage,
  encodePng,
  type GridOptions,
  imageFromChw,
  imageGrid,
  type Rgb,
  type RgbImage,
  readPng,
  upscaleNearest,
  writePng,
} from "./png.js";
