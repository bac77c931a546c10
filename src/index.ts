// dinov2-ts: the package's public entry point, one line per folder barrel.
export * from "./config/index.js";
export * from "./core/index.js";
export * from "./curate/index.js";
export * from "./data/index.js";
export * from "./eval/index.js";
export * from "./inference/index.js";
export * from "./io/index.js";
export * from "./losses/index.js";
export * from "./models/index.js";
export * from "./nn/index.js";
export * from "./onnx/index.js";
export * from "./runtime/index.js";
export * from "./train/index.js";
