// Leaves of a graph: named inputs (fed at run time) and constants (baked into the model).
import type { DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { type HostTensor, hostTensor } from "../host-tensor.js";
import { defineOp } from "../op.js";
import type { Shape } from "../shape.js";
import type { Tensor } from "../tensor.js";

interface InputAttrs {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

const inputOp = defineOp<InputAttrs>({
  name: "input",
  shape: (_, { name, shape }) => {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(
        "input",
        `dimensions must be non-negative integers; got [${shape}] for ${name}`,
      );
    }
    return shape;
  },
  dtype: (_, { dtype }) => dtype,
  grad: "none",
  onnx: (b, _, { name }, out) => b.input(name, out),
});

const constantOp = defineOp<{ readonly value: HostTensor }>({
  name: "constant",
  shape: (_, { value }) => value.shape,
  dtype: (_, { value }) => value.dtype,
  grad: "none",
  onnx: (b, _, { value }) => b.constTensor(value),
});

/** A named graph input of a fixed shape, fed at run time (`exe.run({ [name]: data })`). */
export function input(name: string, shape: Shape, dtype: DType = "float32"): Tensor {
  return inputOp([], { name, shape, dtype });
}

/** A constant baked into the graph. */
export function constant(value: HostTensor): Tensor {
  return constantOp([], { value });
}

/** A rank-0 constant. */
export function scalar(value: number, dtype: DType = "float32"): Tensor {
  return constantOp([], { value: hostTensor(dtype, [], [value]) });
}

export const LEAF_OPS = [inputOp.def, constantOp.def] as const;
