// The PyTorch globals a state_dict pickle may name, and tensor rebuilding from zip storages.
// Port of the parts of torch/_utils.py and torch/serialization.py that loading a state dict runs.
import type { HostTensor } from "../core/host-tensor.js";
import { fmtShape, numel } from "../core/shape.js";
import { CheckpointError } from "./checkpoint-error.js";
import { LazyTensor } from "./lazy-tensor.js";
import { PickleGlobal } from "./pickle.js";
import { decodeTensor, STORED_DTYPES, type StoredDType } from "./tensor-bytes.js";

/** A typed storage class named in a persistent id, e.g. `torch.FloatStorage`. */
export interface TorchStorageType {
  readonly storageType: string;
  readonly stored: StoredDType;
}

/** A `data/<key>` record of the archive: its size, and positioned reads of its bytes. */
export interface StorageRecord {
  readonly size: number;
  read(start: number, length: number): Uint8Array;
}

/** One `data/<key>` record of the archive, typed by its storage class; not read yet. */
export interface TorchStorage {
  readonly key: string;
  readonly stored: StoredDType;
  readonly numel: number;
  readonly record: StorageRecord;
}

export interface TorchGlobalsOptions {
  /** Tensors come back as LazyTensors (read on load()) instead of HostTensors. */
  readonly lazy?: boolean;
}

const STORAGE_TYPES: Readonly<Record<string, StoredDType>> = {
  FloatStorage: "F32",
  DoubleStorage: "F64",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ByteStorage: "U8",
  CharStorage: "I8",
  BoolStorage: "BOOL",
  UntypedStorage: "U8",
};

/** The allow-list: anything else is refused by name before it could run. */
export function torchFindClass(
  source: string,
  opts: TorchGlobalsOptions = {},
): (module: string, name: string) => unknown {
  const allowed: Readonly<Record<string, () => unknown>> = {
    "collections.OrderedDict": () => new PickleGlobal("collections.OrderedDict", orderedDict),
    "torch._utils._rebuild_tensor_v2": () =>
      new PickleGlobal("torch._utils._rebuild_tensor_v2", (args) => {
        const t = rebuildTensor(args, source);
        return opts.lazy ? t : t.load();
      }),
    "torch._utils._rebuild_parameter": () =>
      new PickleGlobal("torch._utils._rebuild_parameter", (args) => args[0]),
    "torch._utils._rebuild_parameter_with_state": () =>
      new PickleGlobal("torch._utils._rebuild_parameter_with_state", (args) => args[0]),
  };
  return (module, name) => {
    const qualified = `${module}.${name}`;
    const make = Object.hasOwn(allowed, qualified) ? allowed[qualified] : undefined;
    if (make) return make();
    const storageName = qualified.replace(/^torch\.(storage\.)?/, "");
    if (qualified.startsWith("torch.") && Object.hasOwn(STORAGE_TYPES, storageName)) {
      return { storageType: qualified, stored: STORAGE_TYPES[storageName]! };
    }
    throw new CheckpointError(
      source,
      `refused global ${qualified}: a state dict needs only tensors`,
      {
        hint: "the pickle names code outside the state_dict allow-list; it was not run. Save model.state_dict() instead",
      },
    );
  };
}

/** `persistent_load`: ('storage', storage type, key, location, numel) -> the storage's record,
 * its size checked against numel; nothing is read yet. */
export function torchPersistentLoad(
  source: string,
  record: (key: string) => StorageRecord | undefined,
): (pid: unknown) => TorchStorage {
  const cache = new Map<string, TorchStorage>();
  return (pid) => {
    const [tag, type, key, , count] = Array.isArray(pid) ? pid : [];
    if (tag !== "storage" || !isStorageType(type) || typeof key !== "string" || !isSize(count)) {
      throw new CheckpointError(
        source,
        "persistent id is not ('storage', type, key, location, numel)",
      );
    }
    const hit = cache.get(key);
    if (hit) return hit;
    const rec = record(key);
    const need = count * STORED_DTYPES[type.stored].bytes;
    if (rec === undefined || rec.size < need) {
      const got = rec === undefined ? "no such record" : `${rec.size} bytes`;
      throw new CheckpointError(source, `storage data/${key}: ${got}; expected ${need} bytes`);
    }
    const storage = { key, stored: type.stored, numel: count, record: rec };
    cache.set(key, storage);
    return storage;
  };
}

/** `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, ...)`: a strided
 * view of a storage, checked now; load() reads the elements it spans and copies them out to a
 * contiguous host tensor. */
function rebuildTensor(args: readonly unknown[], source: string): LazyTensor {
  const [storage, offset, size, stride] = args;
  if (!isStorage(storage) || !isSize(offset) || !isSizes(size) || !isSizes(stride)) {
    throw new CheckpointError(
      source,
      "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride)",
    );
  }
  const where = `tensor ${fmtShape(size)} on storage data/${storage.key}`;
  if (size.length !== stride.length) {
    throw new CheckpointError(source, `${where}: stride ${fmtShape(stride)} has the wrong rank`);
  }
  const n = numel(size);
  const last = offset + size.reduce((acc, d, i) => acc + (d - 1) * stride[i]!, 0);
  if (n > 0 && last >= storage.numel) {
    throw new CheckpointError(
      source,
      `${where}: offset ${offset} and stride ${fmtShape(stride)} reach element ${last}, past the storage's ${storage.numel}`,
    );
  }
  const info = STORED_DTYPES[storage.stored];
  const es = info.bytes;
  const span = n === 0 ? 0 : last - offset + 1; // elements from the first to the last it touches
  const load = (): HostTensor => {
    const raw = storage.record.read(offset * es, span * es);
    if (isContiguous(size, stride)) return decodeTensor(storage.stored, size, raw, { owned: true });
    return decodeTensor(storage.stored, size, gatherStrided(raw, es, size, stride, 0), {
      owned: true,
    });
  };
  return new LazyTensor(info.dtype, size, n * es, load);
}

function orderedDict(args: readonly unknown[]): Map<unknown, unknown> {
  const items = args[0];
  const out = new Map<unknown, unknown>();
  if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv)) out.set(kv[0], kv[1]);
  return out;
}

function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d]! !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}

/** Copies a strided view element by element into row-major order. */
function gatherStrided(
  src: Uint8Array,
  es: number,
  size: readonly number[],
  stride: readonly number[],
  offset: number,
): Uint8Array {
  const n = numel(size);
  const out = new Uint8Array(n * es);
  const idx = new Array<number>(size.length).fill(0);
  let at = offset;
  for (let o = 0; o < n; o++) {
    for (let b = 0; b < es; b++) out[o * es + b] = src[at * es + b]!;
    for (let d = size.length - 1; d >= 0; d--) {
      idx[d]!++;
      at += stride[d]!;
      if (idx[d]! < size[d]!) break;
      at -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function isSize(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isSizes(v: unknown): v is readonly number[] {
  return Array.isArray(v) && v.every(isSize);
}

function isStorageType(v: unknown): v is TorchStorageType {
  return typeof v === "object" && v !== null && "storageType" in v && "stored" in v;
}

function isStorage(v: unknown): v is TorchStorage {
  return typeof v === "object" && v !== null && "record" in v && "numel" in v && "stored" in v;
}
