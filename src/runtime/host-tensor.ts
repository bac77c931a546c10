// Host tensors <-> onnxruntime tensors, without copying the data.
import type * as ort from "onnxruntime-node";
import { type DType, type HostTensor, InternalError } from "../core/index.js";

const ORT_TYPE: Readonly<Record<DType, ort.Tensor.Type>> = {
  float32: "float32",
  float64: "float64",
  float16: "float16",
  int64: "int64",
  int32: "int32",
  int8: "int8",
  bool: "bool",
};

export function toOrt(ortModule: typeof ort, t: HostTensor): ort.Tensor {
  return new ortModule.Tensor(ORT_TYPE[t.dtype], t.data as never, [...t.shape]);
}

export function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = (Object.keys(ORT_TYPE) as DType[]).find((d) => ORT_TYPE[d] === t.type);
  if (!dtype) throw new InternalError(`onnxruntime returned an unsupported tensor type ${t.type}`);
  return { dtype, shape: t.dims.map(Number), data: t.data as HostTensor["data"] };
}
