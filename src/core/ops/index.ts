// The op list: every primitive's definition (used by the completeness test) and the functional API.
import type { OpDef } from "../op.js";
import { ELEMENTWISE_OPS } from "./elementwise.js";
import { LEAF_OPS } from "./leaf.js";
import { LINALG_OPS } from "./linalg.js";
import { MOVEMENT_OPS } from "./movement.js";
import { NN_OPS } from "./nn.js";
import { REDUCE_OPS } from "./reduce.js";

/** Every primitive, erased to its definition (attrs typed per op where it is built). */
export const PRIMITIVES: readonly OpDef<never>[] = [
  ...LEAF_OPS,
  ...ELEMENTWISE_OPS,
  ...REDUCE_OPS,
  ...MOVEMENT_OPS,
  ...LINALG_OPS,
  ...NN_OPS,
];

export * from "./composite.js";
export * from "./elementwise.js";
export { constant, input, scalar } from "./leaf.js";
export * from "./linalg.js";
export * from "./movement.js";
export * from "./nn.js";
export * from "./reduce.js";
export { resizeBilinear } from "./resize.js";
