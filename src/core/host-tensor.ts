// Plain host arrays with a dtype and a shape: the data that enters and leaves graphs.
import type { DType, DTypeArrayMap } from "./dtype.js";
import { ShapeError } from "./errors.js";
import { fmtShape, numel, type Shape } from "./shape.js";

export interface HostTensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: Shape;
  readonly data: DTypeArrayMap[D];
}

const ARRAY_CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  bool: Uint8Array,
} as const;

/** Wraps (or allocates, when `data` is omitted) a typed array as a host tensor; checks its length. */
export function hostTensor<D extends DType>(
  dtype: D,
  shape: Shape,
  data?: DTypeArrayMap[D] | readonly number[],
): HostTensor<D> {
  const n = numel(shape);
  let arr: DTypeArrayMap[D];
  if (data === undefined) {
    arr = new ARRAY_CTORS[dtype](n) as DTypeArrayMap[D];
  } else if (Array.isArray(data)) {
    arr = (
      dtype === "int64"
        ? BigInt64Array.from(data as readonly number[], (v) => BigInt(v))
        : (ARRAY_CTORS[dtype] as unknown as { from(a: readonly number[]): unknown }).from(data)
    ) as DTypeArrayMap[D];
  } else {
    arr = data as DTypeArrayMap[D];
  }
  if (arr.length !== n) {
    throw new ShapeError(
      "hostTensor",
      `data has ${arr.length} elements; got shape ${fmtShape(shape)}, expected ${n} elements`,
    );
  }
  return { dtype, shape: [...shape], data: arr };
}

/** The elements of a host tensor as JS numbers (int64 converted). */
export function toNumbers(t: HostTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
