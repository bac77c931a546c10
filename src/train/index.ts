// Self-supervised training: the one-graph train step, its state, schedules, the host loop.
export { type CheckpointInfo, loadLatestCheckpoint, saveCheckpoint } from "./checkpoint.js";
export { dropPathRates, dropPlan, keptSamples } from "./drop-path.js";
export { exportTeacher } from "./export.js";
export { augmentationFromTrain, maskUpperbound, stepConfigFromTrain } from "./from-config.js";
export { initFromCheckpoint } from "./high-res.js";
export {
  runTraining,
  type StepReport,
  TrainingDivergedError,
  type TrainResult,
  type TrainRunOptions,
  teacherBackbone,
} from "./loop.js";
export { type AdamwHyper, type AdamwState, adamwUpdate } from "./optimizer.js";
export { paramMultipliers } from "./param-groups.js";
export { buildSchedules, cosineSchedule, scheduledValues } from "./schedules.js";
export { type LossName, N_GLOBAL_CROPS } from "./ssl-losses.js";
export { type SslArch, SslModel } from "./ssl-model.js";
export {
  type InitialWeights,
  initialState,
  nextState,
  stepFeeds,
  type TrainState,
} from "./state.js";
export {
  OFFICIAL_IMPL,
  type OfficialStepKeys,
  type StepConfig,
  type StepImpl,
  stepConfigFromOfficial,
  type TeacherSpec,
} from "./step-config.js";
export { type InputSpec, type OutputSpec, StepSignature } from "./step-signature.js";
export { buildTrainStep, STATE, type TrainStepGraph } from "./train-step.js";
