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
export { grad, sumToShape } from "./grad.js";
export { topoSort } from "./graph.js";
export * from "./host-tensor.js";
export type { OnnxAttr, OnnxEmitter, Op, OpDef, ReduceOpType, VjpRule } from "./op.js";
export { defineOp, emitReduce } from "./op.js";
export * from "./ops/index.js";
export { printGraph } from "./print.js";
export * from "./shape.js";
export { currentScope, fmtType, Tensor, type ValueType, withScope } from "./tensor.js";
export { xoshiro128ss } from "./xoshiro.js";
