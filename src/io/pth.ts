// PyTorch checkpoints (`torch.save` zip format) of any size: the zip's central directory is read
// first, the pickle is run with the state_dict allow-list, and each storage is read from its
// offset in the file only when a tensor on it is loaded. Nested dicts flatten to dotted keys.
import type { HostTensor } from "../core/host-tensor.js";
import { CheckpointError } from "./checkpoint-error.js";
import { type LazyStateDict, LazyTensor, loadTensors } from "./lazy-tensor.js";
import { unpickle } from "./pickle.js";
import { type StorageRecord, torchFindClass, torchPersistentLoad } from "./torch-globals.js";
import { type ByteSource, bytesSource, fileSource, ZipReader } from "./zip-reader.js";

/** What a checkpoint pickle holds: tensors, dicts (Maps), lists, tuples and scalars. */
export type PthValue = unknown;

/** Reads an in-memory `torch.save` archive; dicts come back as Maps and tensors as HostTensors. */
export function readPth(bytes: Uint8Array, source = "<pth>"): PthValue {
  return runPth(bytesSource(bytes), source, false).value;
}

/** Reads a `torch.save` file, every tensor loaded (see openPthFile to load only some). */
export function readPthFile(path: string): PthValue {
  const { value, close } = runPth(fileSource(path), path, false);
  close();
  return value;
}

/** Opens a `torch.save` file: the pickle is run now (tensor shapes, storage sizes checked), the
 * storages are read by each tensor's load(). Close it when done. */
export function openPthFile(path: string): LazyStateDict {
  const { value, close } = runPth(fileSource(path), path, true);
  try {
    return { tensors: flattenLazy(value, path), close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Reads a checkpoint and flattens nested dicts with "." (`{teacher: {backbone.x}}` ->
 * `teacher.backbone.x`). Non-tensor leaves (iteration counters, hyper-parameters) are skipped. */
export function readPthStateDict(path: string): Map<string, HostTensor> {
  const lazy = openPthFile(path);
  try {
    return loadTensors(lazy.tensors);
  } finally {
    lazy.close();
  }
}

/** Flattens a value read by readPth/readPthFile (tensors already loaded). */
export function flattenStateDict(value: PthValue, source = "<pth>"): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, t] of flatten(value, source)) out.set(k, t instanceof LazyTensor ? t.load() : t);
  return out;
}

/** True for the tensors the unpickler builds (plain host-tensor records). */
export function isHostTensor(v: unknown): v is HostTensor {
  return (
    typeof v === "object" &&
    v !== null &&
    !(v instanceof Map) &&
    "dtype" in v &&
    "shape" in v &&
    "data" in v &&
    ArrayBuffer.isView(v.data)
  );
}

function flattenLazy(value: PthValue, source: string): Map<string, LazyTensor> {
  const out = new Map<string, LazyTensor>();
  for (const [k, t] of flatten(value, source)) {
    if (!(t instanceof LazyTensor))
      throw new CheckpointError(source, "tensor was not lazy", { key: k });
    out.set(k, t);
  }
  return out;
}

function runPth(
  src: ByteSource,
  source: string,
  lazy: boolean,
): { value: PthValue; close: () => void } {
  try {
    const zip = openArchive(src, source);
    const pkl = [...zip.entries.keys()].find((name) => /^([^/]+\/)?data\.pkl$/.test(name));
    if (pkl === undefined) {
      throw new CheckpointError(source, "zip archive has no data.pkl", {
        hint: "is this a torch.save file? TorchScript and other zip files are not state dicts",
      });
    }
    const prefix = pkl.slice(0, -"data.pkl".length);
    const byteorder = zip.entries.get(`${prefix}byteorder`);
    if (byteorder !== undefined) {
      const order = byteorder.size <= 16 ? new TextDecoder().decode(zip.readAll(byteorder)) : "";
      if (order.trim() !== "little") {
        throw new CheckpointError(
          source,
          `storages are ${order.trim() === "big" ? "big-endian" : "of an unknown byte order"}; only little-endian archives are read`,
          { key: `${prefix}byteorder` },
        );
      }
    }
    const record = (key: string): StorageRecord | undefined => {
      const entry = zip.entries.get(`${prefix}data/${key}`);
      return entry && { size: entry.size, read: (start, n) => zip.readRange(entry, start, n) };
    };
    const value = unpickle(
      zip.readAll(zip.entries.get(pkl)!),
      {
        findClass: torchFindClass(source, { lazy }),
        persistentLoad: torchPersistentLoad(source, record),
      },
      source,
    );
    return { value, close: () => zip.close() };
  } catch (err) {
    src.close();
    throw err;
  }
}

function openArchive(src: ByteSource, source: string): ZipReader {
  const head = src.read(0, Math.min(4, src.size));
  const isZip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  if (!isZip) {
    const legacy = head[0] === 0x80; // a bare pickle: torch.save before 1.6 or with the old format
    throw new CheckpointError(
      source,
      legacy ? "legacy (non-zip) torch.save format" : "not a zip archive",
      {
        hint: legacy
          ? "re-save it with torch>=1.6 (default _use_new_zipfile_serialization=True)"
          : "expected a torch.save .pth/.pt file",
      },
    );
  }
  return new ZipReader(src, source);
}

/** Flattens nested dicts to dotted keys; the leaves kept are tensors (loaded or lazy). */
function flatten(value: PthValue, source: string): Map<string, HostTensor | LazyTensor> {
  if (!(value instanceof Map)) {
    throw new CheckpointError(source, `holds ${describe(value)}, not a dict of tensors`);
  }
  const out = new Map<string, HostTensor | LazyTensor>();
  walk(value, "", out, source);
  return out;
}

function walk(
  dict: Map<unknown, unknown>,
  prefix: string,
  out: Map<string, HostTensor | LazyTensor>,
  source: string,
  open: Set<Map<unknown, unknown>> = new Set(),
): void {
  if (open.has(dict)) {
    throw new CheckpointError(source, `dict under "${prefix}" contains itself`);
  }
  open.add(dict);
  for (const [k, v] of dict) {
    if (typeof k !== "string" && typeof k !== "number") {
      throw new CheckpointError(
        source,
        `dict key ${describe(k)} under "${prefix}" is not a string`,
      );
    }
    const key = prefix + String(k);
    if (v instanceof LazyTensor || isHostTensor(v)) {
      if (out.has(key)) {
        throw new CheckpointError(source, "two entries flatten to the same key", { key });
      }
      out.set(key, v);
    } else if (v instanceof Map) {
      walk(v, `${key}.`, out, source, open);
    }
  }
  open.delete(dict);
}

function describe(v: unknown): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "a tuple" : "a list";
  return typeof v === "object" ? `a ${v.constructor?.name ?? "object"}` : `a ${typeof v}`;
}
