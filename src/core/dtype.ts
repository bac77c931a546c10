// Element types of graph values, their byte sizes and the typed arrays that hold them on the host.

export type DType = "float32" | "float64" | "float16" | "int64" | "int32" | "int8" | "bool";

export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  bool: Uint8Array;
}

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  bool: 1,
};

/** ONNX TensorProto.DataType codes (onnx.proto): the one table, for Cast and initializers. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  float64: 11,
  float16: 10,
  int64: 7,
  int32: 6,
  int8: 3,
  bool: 9,
};

/** Short names used by the graph printer and error messages (`f32[2,3]`). */
export const DTYPE_SHORT: Readonly<Record<DType, string>> = {
  float32: "f32",
  float64: "f64",
  float16: "f16",
  int64: "i64",
  int32: "i32",
  int8: "i8",
  bool: "bool",
};

export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16";
}

export function isInteger(dtype: DType): boolean {
  return dtype === "int64" || dtype === "int32" || dtype === "int8";
}
