// dinov2-ts: the package's public entry point, one line per folder barrel.
export * from "./core/index.js";
export * from "./io/index.js";
export * from "./onnx/index.js";
export * from "./runtime/index.js";
