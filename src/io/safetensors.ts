// safetensors read/write: 8-byte LE header length, JSON header, raw little-endian data section.
// Mirrors the reference implementation's checks and layout (huggingface/safetensors).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InternalError } from "../core/errors.js";
import type { HostTensor } from "../core/host-tensor.js";
import { fmtShape, numel } from "../core/shape.js";
import { CheckpointError } from "./checkpoint-error.js";
import { writeFileDurably } from "./durable-write.js";
import { type LazyStateDict, LazyTensor, loadTensors } from "./lazy-tensor.js";
import type { StoredDType } from "./tensor-bytes.js";
import { decodeTensor, encodeTensor, isStoredDType, STORED_DTYPES } from "./tensor-bytes.js";

/** One tensor's header entry; `begin`/`end` are byte offsets into the data section. */
export interface SafetensorsEntry {
  readonly key: string;
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Byte offset of the data section in the file. */
  readonly dataStart: number;
}

export type TensorDict = ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>;

export interface WriteSafetensorsOptions {
  /** How bool tensors are stored: "BOOL" (default) or "U8" (0/1, as the reference fixtures do). */
  readonly boolAs?: "BOOL" | "U8";
}

/** The reference implementation refuses headers above 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;

/** Reads every tensor of a safetensors file; `source` names the file in errors. */
export function readSafetensors(
  bytes: Uint8Array,
  source = "<safetensors>",
): Map<string, HostTensor> {
  const header = parseSafetensorsHeader(bytes, source);
  const out = new Map<string, HostTensor>();
  for (const e of header.entries) {
    const data = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    out.set(e.key, decodeTensor(e.dtype, e.shape, data));
  }
  return out;
}

/** Reads a file tensor by tensor (never the whole file at once, so files over 2 GiB work). */
export function readSafetensorsFile(path: string): Map<string, HostTensor> {
  const lazy = openSafetensorsFile(path);
  try {
    return loadTensors(lazy.tensors);
  } finally {
    lazy.close();
  }
}

/** Opens a file and parses its header; each tensor is read from the file by its load(). */
export function openSafetensorsFile(path: string): LazyStateDict & { header: SafetensorsHeader } {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const prefix = readAt(fd, 0, Math.min(8, size));
    const n = prefix.length === 8 ? Number(Buffer.from(prefix).readBigUInt64LE(0)) : 0;
    const headerBytes = readAt(fd, 0, Math.min(8 + Math.min(n, MAX_HEADER_BYTES), size));
    const header = parseSafetensorsHeader(headerBytes, path, size);
    const tensors = new Map<string, LazyTensor>();
    for (const e of header.entries) {
      const load = () =>
        decodeTensor(e.dtype, e.shape, readAt(fd, header.dataStart + e.begin, e.end - e.begin), {
          owned: true,
        });
      tensors.set(
        e.key,
        new LazyTensor(STORED_DTYPES[e.dtype].dtype, e.shape, e.end - e.begin, load),
      );
    }
    return { tensors, header, metadata: header.metadata, close: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The `__metadata__` strings of a safetensors file (reads the header only). */
export function readSafetensorsMetadata(path: string): Readonly<Record<string, string>> {
  const lazy = openSafetensorsFile(path);
  lazy.close();
  return lazy.header.metadata ?? {};
}

/** Parses and bounds-checks the header: dtypes, shapes, and offsets that tile the data section.
 * `bytes` holds at least the length prefix and header; `fileLength` is the whole file's size. */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  source = "<safetensors>",
  fileLength = bytes.length,
): SafetensorsHeader {
  if (fileLength < 8) {
    throw new CheckpointError(
      source,
      `file is ${fileLength} bytes, shorter than the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(fileLength - 8) || headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(
      source,
      `header length ${headerLen} does not fit; got a ${fileLength}-byte file, expected at most ${Math.min(fileLength - 8, MAX_HEADER_BYTES)}`,
      { hint: "the file is truncated or not a safetensors file" },
    );
  }
  const dataStart = 8 + Number(headerLen);
  const raw = parseHeaderJson(bytes.subarray(8, dataStart), source);
  const dataLen = fileLength - dataStart;
  let metadata: Record<string, string> | undefined;
  const entries: SafetensorsEntry[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === "__metadata__") metadata = parseMetadata(value, source);
    else entries.push(parseEntry(key, value, dataLen, source));
  }
  checkTiling(entries, dataLen, source);
  return { entries, metadata, dataStart };
}

/** Serialises tensors like the reference: data ordered by (dtype rank desc, key), header in data
 * order after `__metadata__`, padded with spaces to a multiple of 8. Deterministic bytes. */
export function writeSafetensors(
  tensors: TensorDict,
  metadata?: Readonly<Record<string, string>>,
  opts: WriteSafetensorsOptions = {},
): Uint8Array {
  const { head, items } = layout(tensors, metadata, opts);
  const out = new Uint8Array(head.length + items.reduce((n, it) => n + it.bytes.length, 0));
  out.set(head);
  let at = head.length;
  for (const it of items) {
    out.set(it.bytes, at);
    at += it.bytes.length;
  }
  return out;
}

/** Writes atomically and durably (temporary file, fsync, rename, fsync of the directory), tensor
 * by tensor: the same bytes as writeSafetensors, without building the whole file in memory. */
export function writeSafetensorsFile(
  path: string,
  tensors: TensorDict,
  metadata?: Readonly<Record<string, string>>,
  opts: WriteSafetensorsOptions = {},
): void {
  const { head, items } = layout(tensors, metadata, opts);
  writeFileDurably(path, [head, ...items.map((it) => it.bytes)]);
}

interface Item {
  readonly key: string;
  readonly stored: StoredDType;
  readonly bytes: Uint8Array;
  readonly shape: readonly number[];
}

/** The 8-byte length and padded JSON header, and the tensors in data order. */
function layout(
  tensors: TensorDict,
  metadata: Readonly<Record<string, string>> | undefined,
  opts: WriteSafetensorsOptions,
): { head: Uint8Array; items: Item[] } {
  const entries: Iterable<[string, HostTensor]> =
    tensors instanceof Map ? tensors : Object.entries(tensors);
  const items: Item[] = [...entries].map(([key, t]) => {
    const { stored, bytes } = encodeTensor(t);
    return {
      key,
      stored: stored === "BOOL" ? (opts.boolAs ?? "BOOL") : stored,
      bytes,
      shape: t.shape,
    };
  });
  if (items.some((it) => it.key === "__metadata__")) {
    throw new CheckpointError("<safetensors>", "a tensor cannot be named __metadata__", {
      key: "__metadata__",
    });
  }
  const rank = (d: StoredDType) => STORED_DTYPES[d].rank;
  items.sort((a, b) => rank(b.stored) - rank(a.stored) || compareKeys(a.key, b.key));
  const header: Record<string, unknown> = Object.create(null); // a "__proto__" key stays a key
  if (metadata !== undefined) {
    const sorted = Object.keys(metadata).sort(compareKeys);
    header.__metadata__ = Object.fromEntries(sorted.map((k) => [k, metadata[k]]));
  }
  let pos = 0;
  for (const it of items) {
    header[it.key] = {
      dtype: it.stored,
      shape: it.shape,
      data_offsets: [pos, pos + it.bytes.length],
    };
    pos += it.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, items };
}

function readAt(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, buf, done, Math.min(2 ** 30, length - done), position + done);
    if (n === 0) throw new InternalError(`file shrank while reading at byte ${position + done}`);
    done += n;
  }
  return buf;
}

function parseHeaderJson(bytes: Uint8Array, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new CheckpointError(source, `header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointError(source, "header is not a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function parseMetadata(value: unknown, source: string): Record<string, string> {
  const ok =
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
  if (!ok) throw new CheckpointError(source, "__metadata__ must map strings to strings");
  return value as Record<string, string>;
}

function parseEntry(
  key: string,
  value: unknown,
  dataLen: number,
  source: string,
): SafetensorsEntry {
  const e = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const { dtype, shape, data_offsets: offs } = e;
  if (typeof dtype !== "string" || !isStoredDType(dtype)) {
    throw new CheckpointError(source, `unsupported dtype ${JSON.stringify(dtype)}`, {
      key,
      hint: `supported: ${Object.keys(STORED_DTYPES).join(", ")}`,
    });
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(source, `shape ${JSON.stringify(shape)} is not a list of sizes`, {
      key,
    });
  }
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o))) {
    throw new CheckpointError(source, `data_offsets ${JSON.stringify(offs)} is not [begin, end]`, {
      key,
    });
  }
  const [begin, end] = offs as [number, number];
  if (begin < 0 || end < begin || end > dataLen) {
    throw new CheckpointError(
      source,
      `data_offsets [${begin}, ${end}] fall outside the ${dataLen}-byte data section`,
      { key },
    );
  }
  const want = numel(shape) * STORED_DTYPES[dtype].bytes;
  if (end - begin !== want) {
    throw new CheckpointError(
      source,
      `data_offsets span ${end - begin} bytes; got ${dtype}${fmtShape(shape)}, expected ${want} bytes`,
      { key },
    );
  }
  return { key, dtype, shape, begin, end };
}

/** Like the reference: the entries must cover the data section with no gap or overlap. */
function checkTiling(entries: readonly SafetensorsEntry[], dataLen: number, source: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) {
      const what = e.begin < pos ? "overlaps the previous tensor" : "leaves a gap before it";
      throw new CheckpointError(
        source,
        `data_offsets begin at ${e.begin}, which ${what} (at ${pos})`,
        {
          key: e.key,
        },
      );
    }
    pos = e.end;
  }
  if (pos !== dataLen) {
    throw new CheckpointError(
      source,
      `tensors cover ${pos} bytes of a ${dataLen}-byte data section`,
    );
  }
}

/** Byte-wise (UTF-8 code unit) order, as Rust's BTreeMap sorts strings. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
