// ONNX export: the only folder that knows protobuf.
export { ONNX_DTYPE, ONNX_IR_VERSION, ONNX_OPSET, OnnxBuilder } from "./builder.js";
export { type LoweredModel, type LowerOptions, lowerToOnnx, OnnxExportError } from "./lower.js";
export { ProtoWriter } from "./proto.js";
