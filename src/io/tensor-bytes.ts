// Raw little-endian tensor bytes <-> host tensors, for the element types checkpoints store.
// Shared by the safetensors and PyTorch readers; always copies, so tensors never alias a file.
import type { DType } from "../core/dtype.js";
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import type { Shape } from "../core/shape.js";
import { CheckpointError } from "./checkpoint-error.js";

/** Element types as safetensors names them; PyTorch storages map onto the same set. */
export type StoredDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I8" | "U8" | "BOOL";

interface StoredInfo {
  readonly bytes: number;
  /** The host dtype it is read as (BF16 widens to float32; U8 holds 0/1 masks and reads as bool). */
  readonly dtype: DType;
  /** Position in the safetensors `Dtype` enum ("increasing alignment"); writers sort by it. */
  readonly rank: number;
}

export const STORED_DTYPES: Readonly<Record<StoredDType, StoredInfo>> = {
  F64: { bytes: 8, dtype: "float64", rank: 6 },
  F32: { bytes: 4, dtype: "float32", rank: 5 },
  F16: { bytes: 2, dtype: "float16", rank: 2 },
  BF16: { bytes: 2, dtype: "float32", rank: 3 },
  I64: { bytes: 8, dtype: "int64", rank: 7 },
  I32: { bytes: 4, dtype: "int32", rank: 4 },
  I8: { bytes: 1, dtype: "int8", rank: 1 },
  U8: { bytes: 1, dtype: "bool", rank: 1 },
  BOOL: { bytes: 1, dtype: "bool", rank: 0 },
};

/** The stored dtype name of each host dtype (safetensors and .pth storages). */
export const HOST_TO_STORED: Readonly<Record<DType, StoredDType>> = {
  float64: "F64",
  float32: "F32",
  float16: "F16",
  int64: "I64",
  int32: "I32",
  int8: "I8",
  bool: "BOOL",
};

export function isStoredDType(name: string): name is StoredDType {
  return Object.hasOwn(STORED_DTYPES, name);
}

/** Decodes `bytes` (exactly numel * element size, little-endian) into a fresh host tensor.
 * `owned`: the caller hands over a buffer nobody else holds, used as is when it is 0-offset. */
export function decodeTensor(
  stored: StoredDType,
  shape: Shape,
  bytes: Uint8Array,
  opts: { readonly owned?: boolean } = {},
): HostTensor {
  assertLittleEndianHost();
  const reuse =
    opts.owned === true && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  // a fresh, 0-offset buffer: aligned for every typed array
  const copy = reuse ? bytes : new Uint8Array(bytes);
  const buf = copy.buffer;
  switch (stored) {
    case "F64":
      return hostTensor("float64", shape, new Float64Array(buf));
    case "F32":
      return hostTensor("float32", shape, new Float32Array(buf));
    case "F16":
      return hostTensor("float16", shape, new Uint16Array(buf));
    case "BF16":
      return hostTensor("float32", shape, bf16ToFloat32(new Uint16Array(buf)));
    case "I64":
      return hostTensor("int64", shape, new BigInt64Array(buf));
    case "I32":
      return hostTensor("int32", shape, new Int32Array(buf));
    case "I8":
      return hostTensor("int8", shape, new Int8Array(buf));
    case "U8":
    case "BOOL":
      return hostTensor("bool", shape, copy);
  }
}

/** The stored element type and little-endian bytes of a host tensor (a view, not a copy). */
export function encodeTensor(t: HostTensor): { stored: StoredDType; bytes: Uint8Array } {
  assertLittleEndianHost();
  const { buffer, byteOffset, byteLength } = t.data;
  return { stored: HOST_TO_STORED[t.dtype], bytes: new Uint8Array(buffer, byteOffset, byteLength) };
}

function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new CheckpointError("<host>", "checkpoint I/O needs a little-endian host");
  }
}
