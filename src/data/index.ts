// Public API of the data pipeline: images and torchvision-equivalent transforms, DINOv2 multi-crop
// augmentation, iBOT masking and collation, datasets, and the worker-thread loader.
export {
  BLUR_PROBABILITIES,
  type BlurMode,
  createDataAugmentationDino,
  type DataAugmentationDinoOptions,
  DINO_AUGMENTATION_DEFAULTS,
  type MultiCrops,
  type MultiCropTransform,
} from "./augment.js";
export {
  type BatchJob,
  type BatchResult,
  type BatchRunner,
  createBatchRunner,
  type SslPipelineConfig,
} from "./batch-job.js";
export { gaussianBlur, gaussianKernel1d } from "./blur.js";
export { type CollateOptions, collateSsl, type SslBatch, type SslSample } from "./collate.js";
export {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  rgbToGrayscale,
  solarize,
  solarizeUint8,
} from "./color.js";
export {
  type DatasetSpec,
  datasetLength,
  type ImageDataset,
  type ImageRecord,
  openDataset,
  type SkippedFile,
} from "./datasets/dataset.js";
export {
  createImageFolderDataset,
  type ImageFolderScan,
  type ImageFolderSpec,
  type ScanImageFolderOptions,
  scanImageFolder,
} from "./datasets/image-folder.js";
export {
  createSyntheticDataset,
  renderSynthetic,
  SYNTHETIC_CLASSES,
  type SyntheticSpec,
} from "./datasets/synthetic.js";
export { decodeImage, IMAGE_EXTENSIONS } from "./decode.js";
export { DataError } from "./errors.js";
export { crop, hflip, type ResizeOptions, resize, resizedCrop } from "./geometry.js";
export {
  type FloatImage,
  floatImage,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalize,
  toFloatImage,
  type Uint8Image,
} from "./image.js";
export {
  createSslLoader,
  type LoaderStats,
  type SslLoader,
  type SslLoaderOptions,
} from "./loader.js";
export {
  createMaskingGenerator,
  type MaskingGenerator,
  type MaskingGeneratorOptions,
  officialMaxNumPatches,
} from "./masking.js";
export { linspaceF32, roundHalfEven, truncMulF32 } from "./python-numerics.js";
export {
  type CropBox,
  DEFAULT_CROP_RATIO,
  type RandomResizedCropOptions,
  randomResizedCrop,
  sampleCropBox,
} from "./random-resized-crop.js";
export { createRng, type Rng, type RngKey } from "./rng.js";
export {
  type BatchSampler,
  createInfiniteSampler,
  type InfiniteSamplerOptions,
} from "./sampler.js";
