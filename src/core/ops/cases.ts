// The shape of an op's test cases (see *.cases.ts beside each op file and ops.test.ts).
import type { HostTensor } from "../host-tensor.js";
import type { Tensor } from "../tensor.js";

export type Build = (...xs: Tensor[]) => Tensor;

export interface ForwardCase {
  readonly build: Build;
  readonly inputs: readonly HostTensor[];
  /** Literal expected output values, flattened. */
  readonly expected: readonly number[];
  readonly shape: readonly number[];
  readonly tol?: number;
}

export interface GradCase {
  readonly build: Build;
  readonly inputs: readonly HostTensor[];
  readonly wrt?: readonly number[];
  /** Finite-difference step, where the default is below a float32 round trip's resolution. */
  readonly eps?: number;
  readonly atol?: number;
  readonly rtol?: number;
}

export interface ShapeCase {
  readonly build: () => Tensor;
  /** The expected output shape, or the exact error message. */
  readonly shape?: readonly number[];
  readonly error?: string;
}

export interface OpCases {
  readonly shapes: readonly ShapeCase[];
  readonly forward: readonly ForwardCase[];
  /** "none" only for ops whose definition says grad: "none". */
  readonly grad: readonly GradCase[] | "none";
}
