// PyTorch checkpoints (`torch.save` zip format): unzip, unpickle with the state_dict allow-list,
// and flatten nested dicts of tensors to dotted keys.
import { readFileSync, statSync } from "node:fs";
import { unzipSync } from "fflate";
import type { HostTensor } from "../core/host-tensor.js";
import { CheckpointError } from "./checkpoint-error.js";
import { unpickle } from "./pickle.js";
import { torchFindClass, torchPersistentLoad } from "./torch-globals.js";

const MAX_READ_BYTES = 2 ** 31 - 1;

/** What a checkpoint pickle holds: tensors, dicts (Maps), lists, tuples and scalars. */
export type PthValue = unknown;

/** Reads a `torch.save` zip archive; dicts come back as Maps and tensors as HostTensors. */
export function readPth(bytes: Uint8Array, source = "<pth>"): PthValue {
  const records = openArchive(bytes, source);
  const pkl = [...records.keys()].find((name) => /^([^/]+\/)?data\.pkl$/.test(name));
  if (pkl === undefined) {
    throw new CheckpointError(source, "zip archive has no data.pkl", {
      hint: "is this a torch.save file? TorchScript and other zip files are not state dicts",
    });
  }
  const prefix = pkl.slice(0, -"data.pkl".length);
  const byteorder = records.get(`${prefix}byteorder`);
  if (byteorder !== undefined && new TextDecoder().decode(byteorder).trim() !== "little") {
    throw new CheckpointError(
      source,
      "storages are big-endian; only little-endian archives are read",
    );
  }
  return unpickle(
    records.get(pkl)!,
    {
      findClass: torchFindClass(source),
      persistentLoad: torchPersistentLoad(source, (key) => records.get(`${prefix}data/${key}`)),
    },
    source,
  );
}

export function readPthFile(path: string): PthValue {
  return readPth(readWholeFile(path), path);
}

/** Node reads at most 2 GiB at once (and fflate needs the whole archive in memory). */
export function readWholeFile(path: string): Uint8Array {
  const size = statSync(path).size;
  if (size > MAX_READ_BYTES) {
    throw new CheckpointError(path, `is ${size} bytes; torch zip files over 2 GiB are not read`, {
      hint: "convert it to .safetensors (read tensor by tensor, any size)",
    });
  }
  return readFileSync(path);
}

/** Reads a checkpoint and flattens nested dicts with "." (`{teacher: {backbone.x}}` ->
 * `teacher.backbone.x`). Non-tensor leaves (iteration counters, hyper-parameters) are skipped. */
export function readPthStateDict(path: string): Map<string, HostTensor> {
  return flattenStateDict(readPthFile(path), path);
}

export function flattenStateDict(value: PthValue, source = "<pth>"): Map<string, HostTensor> {
  if (!(value instanceof Map)) {
    throw new CheckpointError(source, `holds ${describe(value)}, not a dict of tensors`);
  }
  const out = new Map<string, HostTensor>();
  walk(value, "", out, source);
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

function walk(
  dict: Map<unknown, unknown>,
  prefix: string,
  out: Map<string, HostTensor>,
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
    if (isHostTensor(v)) {
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

function openArchive(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!isZip) {
    const legacy = bytes[0] === 0x80; // a bare pickle: torch.save before 1.6 or with the old format
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
  try {
    return new Map(Object.entries(unzipSync(bytes)));
  } catch (err) {
    throw new CheckpointError(source, `zip archive is corrupt (${(err as Error).message})`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "a tuple" : "a list";
  return typeof v === "object" ? `a ${v.constructor?.name ?? "object"}` : `a ${typeof v}`;
}
