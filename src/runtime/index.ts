// The runtime: the only folder that imports onnxruntime.
export {
  loadOrt,
  PROVIDERS,
  type Provider,
  ProviderError,
  parseProvider,
  probeProviders,
} from "./device.js";
export { type DeclaredValue, ModelFile } from "./model-file.js";
export { createRuntime, Executable, FeedError, Runtime, type RuntimeOptions } from "./session.js";
