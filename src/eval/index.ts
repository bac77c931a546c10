// Evaluation on frozen features: feature extraction, k-NN (+ few-shot), the linear-probe grid,
// logistic regression, instance retrieval, and the paper's pictures
// (patch PCA, patch matching) and loss curves as PNG.

export {
  type FeatureBatch,
  type FeatureHead,
  RowCollector,
  type StreamOptions,
  streamFeatures,
} from "./feature-stream.js";
export {
  type ExtractedFeatures,
  type ExtractOptions,
  extractFeatures,
  type ImageBatches,
} from "./features.js";
export {
  type FewShotTry,
  fewShotRows,
  type KnnOptions,
  type KnnResult,
  knnEval,
  knnFewShot,
  type Neighbours,
  nearestNeighbours,
} from "./knn.js";
export {
  type AugmentedSource,
  LINEAR_LEARNING_RATES,
  type LinearProbeOptions,
  type LinearProbeResult,
  linearProbe,
  type ProbeHead,
} from "./linear-probe.js";
export {
  fitLogReg,
  type LogRegData,
  type LogRegModel,
  type LogRegOptions,
  lbfgs,
  logRegScores,
} from "./logreg.js";
export {
  LOGREG_C_VALUES,
  type LogRegProtocolOptions,
  type LogRegProtocolResult,
  logRegProtocol,
  type SweepPoint,
} from "./logreg-protocol.js";
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
export {
  type HeadConfig,
  headConfigs,
  headName,
  type ProbeLayout,
  probeColumns,
  probeFeatureHead,
  probeLayout,
  probeWidth,
} from "./probe-features.js";
export {
  averagePrecision,
  type HitKind,
  l2NormalizeRows,
  type Protocol,
  protocolTruth,
  type QueryTruth,
  type RetrievalScores,
  type RevisitedTruth,
  rankDatabase,
  retrievalPicture,
  scoreRankings,
} from "./retrieval.js";
