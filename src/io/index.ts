// Checkpoint I/O: safetensors, PyTorch zip checkpoints, and the official/training/HF layouts.
export { ARCH_METADATA_KEY, archMetadata, readArchMetadata } from "./arch-metadata.js";
export { CheckpointError } from "./checkpoint-error.js";
export {
  type CheckpointOptions,
  conventionalInterpolation,
  HEADS_BY_DIM,
} from "./checkpoint-options.js";
export {
  CONVERT_FORMATS,
  type ConvertFormat,
  type ConvertOptions,
  type ConvertResult,
  convertCheckpoint,
  DEFAULT_MAX_SHARD_BYTES,
  formatOfPath,
  writeHfFolder,
} from "./convert.js";
export { fsyncDirectory, writeFileDurably } from "./durable-write.js";
export { hfConfigToOptions, optionsToHfConfig } from "./hf-config.js";
export { hfToOfficial, officialToHf } from "./hf-layout.js";
export { inferOptionsFromStateDict } from "./infer-options.js";
export {
  type CheckpointLayout,
  detectLayout,
  type NormaliseOptions,
  toOfficialStateDict,
} from "./layouts.js";
export { type LazyStateDict, LazyTensor, loadTensors, withLazy } from "./lazy-tensor.js";
export {
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  loadCheckpoint,
  openWeights,
  validateStateDict,
} from "./load-checkpoint.js";
export { PickleGlobal, type UnpickleHooks, unpickle } from "./pickle.js";
export {
  flattenStateDict,
  isHostTensor,
  openPthFile,
  type PthValue,
  readPth,
  readPthFile,
  readPthStateDict,
} from "./pth.js";
export { writePthFile } from "./pth-writer.js";
export {
  openSafetensorsFile,
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsFile,
  readSafetensorsMetadata,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type TensorDict,
  type WriteSafetensorsOptions,
  writeSafetensors,
  writeSafetensorsFile,
} from "./safetensors.js";
export type { StoredDType } from "./tensor-bytes.js";
