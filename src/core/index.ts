// The graph core: symbolic tensors, primitives, composites, reverse-mode grad, the printer.
export {
  planRecompute,
  recomputedSegmentOf,
  recomputeInBackward,
  type Segment,
  traceSegment,
} from "./checkpoint.js";
export * from "./dtype.js";
export * from "./errors.js";
export { grad, sumToShape, topoSort } from "./grad.js";
export * from "./host-tensor.js";
export type { OnnxAttr, OnnxEmitter, Op, OpDef, VjpRule } from "./op.js";
export { defineOp } from "./op.js";
export * from "./ops/index.js";
export { printGraph } from "./print.js";
export * from "./shape.js";
export { currentScope, fmtType, Tensor, type ValueType, withScope } from "./tensor.js";
