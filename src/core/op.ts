// OpDef: everything about a primitive in one object (shape, dtype, gradient, ONNX lowering).
import type { DType } from "./dtype.js";
import { DTypeError, ShapeError } from "./errors.js";
import type { HostTensor } from "./host-tensor.js";
import type { Shape } from "./shape.js";
import { currentScope, fmtType, Tensor, type ValueType } from "./tensor.js";

/** An ONNX attribute value: number = INT, {f} = FLOAT, number[] = INTS, {fs} = FLOATS. */
export type OnnxAttr =
  | number
  | string
  | readonly number[]
  | { readonly f: number }
  | { readonly fs: readonly number[] }
  | { readonly t: HostTensor };

/** What an op's lowering may ask of the ONNX builder (implemented in onnx/builder.ts). */
export interface OnnxEmitter {
  node(
    opType: string,
    inputs: readonly string[],
    attrs?: Readonly<Record<string, OnnxAttr>>,
    domain?: string,
  ): string;
  /** A 1-D int64 initializer (shapes, axes, slice bounds). */
  constInt64(values: readonly number[]): string;
  /** A scalar initializer of the given element type. */
  constScalar(value: number, dtype: DType): string;
  constTensor(value: HostTensor): string;
  /** The name of a graph input, declared once. */
  input(name: string, type: ValueType): string;
  /**
   * Output `index` of the node whose first output is `first` (multi-output contrib ops such as
   * SkipLayerNormalization); the outputs in between are left unnamed (optional, not computed).
   */
  nodeOutput(first: string, index: number): string;
  /** The default-domain opset the graph is written for (see emitReduce). */
  readonly opset: number;
}

/**
 * A Reduce* node over `axes`, spelled for the emitter's opset: axes are an input from opset 13
 * for ReduceSum and from opset 18 for the others, an attribute before (an attribute above those
 * opsets is ignored by onnxruntime, silently reducing over every axis).
 */
export function emitReduce(
  b: OnnxEmitter,
  opType: ReduceOpType,
  x: string,
  axes: readonly number[],
  keepDims: boolean,
): string {
  const keepdims = keepDims ? 1 : 0;
  const axesAsInput = b.opset >= (opType === "ReduceSum" ? 13 : 18);
  return axesAsInput
    ? b.node(opType, [x, b.constInt64(axes)], { keepdims })
    : b.node(opType, [x], { axes: [...axes], keepdims });
}

export type ReduceOpType =
  | "ReduceSum"
  | "ReduceMean"
  | "ReduceMax"
  | "ReduceMin"
  | "ReduceProd"
  | "ReduceL2"
  | "ReduceLogSumExp";

export interface VjpContext<A> {
  readonly ins: readonly Tensor[];
  readonly out: Tensor;
  readonly dout: Tensor;
  readonly attrs: A;
}

/** Vector-Jacobian product: one gradient per input, null where none flows. */
export type VjpRule<A> = (c: VjpContext<A>) => readonly (Tensor | null)[];

export interface OpDef<A extends object> {
  /** Lowercase; equals the exported function's name. */
  readonly name: string;
  /** Output shape; validates inputs and throws ShapeError with the values at fault. */
  readonly shape: (ins: readonly ValueType[], attrs: A) => Shape;
  readonly dtype: (ins: readonly ValueType[], attrs: A) => DType;
  /** "none" is explicit: the op has no derivative (argmax, compare, leaves). */
  readonly grad: VjpRule<A> | "none";
  /** The grad engine sums each input's gradient back to that input's shape. */
  readonly broadcasts?: boolean;
  readonly onnx: (
    b: OnnxEmitter,
    ins: readonly string[],
    attrs: A,
    out: ValueType,
    inTypes: readonly ValueType[],
  ) => string;
}

export interface Op<A extends object> {
  (inputs: readonly Tensor[], attrs: A): Tensor;
  readonly def: OpDef<A>;
}

/** Turns a definition into the function that builds nodes, checking shapes and dtypes at build. */
export function defineOp<A extends object>(def: OpDef<A>): Op<A> {
  const apply = (inputs: readonly Tensor[], attrs: A): Tensor => {
    let shape: Shape;
    let dtype: DType;
    try {
      dtype = def.dtype(inputs, attrs);
      shape = def.shape(inputs, attrs);
    } catch (e) {
      throw withContext(e, inputs);
    }
    return new Tensor(def, inputs, attrs, shape, dtype);
  };
  return Object.assign(apply, { def });
}

function withContext(e: unknown, inputs: readonly Tensor[]): unknown {
  const scope = currentScope();
  const types = inputs.map(fmtType);
  if (e instanceof ShapeError && e.scope === "") {
    const what = e.message.split("\n")[0]!.slice(e.op.length + 2);
    return new ShapeError(e.op, what, {
      inputs: types,
      scope,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }
  if (e instanceof DTypeError && e.scope === "") {
    return new DTypeError(e.op, e.message.slice(e.op.length + 2), { scope });
  }
  return e;
}

// ---- shared rules for op families ---------------------------------------------------------

export const sameDtype =
  (op: string) =>
  (ins: readonly ValueType[]): DType => {
    const d = ins[0]!.dtype;
    for (const t of ins) {
      if (t.dtype !== d) {
        throw new DTypeError(
          op,
          `inputs have different dtypes; got ${ins.map(fmtType).join(", ")}`,
          {
            hint: "cast one input so that both have the same dtype",
          },
        );
      }
    }
    return d;
  };

export const requireFloat =
  (op: string) =>
  (ins: readonly ValueType[]): DType => {
    const d = sameDtype(op)(ins);
    if (d !== "float32" && d !== "float64" && d !== "float16") {
      throw new DTypeError(op, `expects a float input; got ${ins.map(fmtType).join(", ")}`);
    }
    return d;
  };

export const sameShape = (ins: readonly ValueType[]): Shape => ins[0]!.shape;
