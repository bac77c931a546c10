// Random-access reading of zip archives (zip64 included): the central directory first, then any
// entry's bytes, or a byte range of a stored entry, read from its offset only when asked for.
//
// Why our own and not yauzl: yauzl (and every other maintained Node zip reader) is asynchronous,
// with one read stream per entry; our checkpoint loaders are synchronous all the way down (the
// unpickler resolves storages from `persistent_load` while it runs, and loadCheckpoint is called
// from synchronous code), and what torch.save writes is the simplest zip there is: stored
// (uncompressed) records read as positioned byte ranges. The part of the format that needs to
// be right — end-of-central-directory search, the zip64 locator/record and extra field, bounds
// on every offset and size before any allocation — is this file. Deflated entries (zips re-packed
// by other tools) are inflated with fflate, their output size bounded before allocation.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { inflateSync } from "fflate";
import { CheckpointError } from "./checkpoint-error.js";

/** Positioned reads over a file or an in-memory archive. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `position`; the caller has checked the range. */
  read(position: number, length: number): Uint8Array;
  close(): void;
}

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
/** Deflate cannot expand data more than ~1032:1; a larger claim is a lie (or a bomb). */
const MAX_DEFLATE_RATIO = 1032;
/** Node reads at most 2 GiB per call. */
const READ_CHUNK = 2 ** 30;

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, length) {
      const buf = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const n = readSync(fd, buf, done, Math.min(READ_CHUNK, length - done), position + done);
        if (n === 0) {
          throw new CheckpointError(path, `file ended at byte ${position + done} while reading`, {
            hint: "was it truncated or rewritten while being read?",
          });
        }
        done += n;
      }
      return buf;
    },
    close: () => closeSync(fd),
  };
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (position, length) => bytes.slice(position, position + length), // a copy: owned by the caller
    close: () => {},
  };
}

/** An opened archive: its central directory, parsed and bounds-checked against the file size. */
export class ZipReader {
  readonly entries: ReadonlyMap<string, ZipEntry>;

  constructor(
    private readonly src: ByteSource,
    private readonly source: string,
  ) {
    this.entries = readCentralDirectory(src, source);
  }

  /** An entry's whole (uncompressed) content. */
  readAll(entry: ZipEntry): Uint8Array {
    if (entry.method === 8) {
      const raw = this.src.read(this.dataStart(entry), entry.compressedSize);
      const out = new Uint8Array(entry.size);
      try {
        const got = inflateSync(raw, { out });
        if (got.length !== entry.size) throw new Error(`inflated to ${got.length} bytes`);
      } catch (err) {
        this.fail(entry, `does not inflate to its ${entry.size} bytes (${(err as Error).message})`);
      }
      return out;
    }
    return this.readRange(entry, 0, entry.size);
  }

  /** `length` bytes from `start` of a stored entry, read from the file without the rest. */
  readRange(entry: ZipEntry, start: number, length: number): Uint8Array {
    if (start < 0 || length < 0 || start + length > entry.size) {
      this.fail(entry, `range [${start}, ${start + length}) is outside its ${entry.size} bytes`);
    }
    if (entry.method === 8) return this.readAll(entry).slice(start, start + length);
    return this.src.read(this.dataStart(entry) + start, length);
  }

  close(): void {
    this.src.close();
  }

  /** The local header repeats the name and has its own extra field; data follows it. */
  private dataStart(entry: ZipEntry): number {
    const h = view(this.src.read(entry.localHeaderOffset, 30));
    if (h.getUint32(0, true) !== LOCAL) this.fail(entry, "local header signature is wrong");
    const start = entry.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
    if (start + entry.compressedSize > this.src.size) {
      this.fail(
        entry,
        `data [${start}, ${start + entry.compressedSize}) runs past the ${this.src.size}-byte file`,
      );
    }
    return start;
  }

  private fail(entry: ZipEntry, what: string): never {
    throw new CheckpointError(this.source, `zip entry ${entry.name}: ${what}`);
  }
}

function readCentralDirectory(src: ByteSource, source: string): Map<string, ZipEntry> {
  const corrupt = (what: string): never => {
    throw new CheckpointError(source, `zip archive is corrupt: ${what}`, {
      hint: "the file may be truncated (an interrupted download or copy?)",
    });
  };
  const tailLen = Math.min(src.size, 22 + MAX_COMMENT + 20);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  const t = view(tail);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (t.getUint32(i, true) === EOCD && i + 22 + t.getUint16(i + 20, true) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) corrupt(`no end-of-central-directory record in the last ${tailLen} bytes`);
  const eocdPos = tailStart + at;
  let count = t.getUint16(at + 10, true);
  let cdSize = t.getUint32(at + 12, true);
  let cdOffset = t.getUint32(at + 16, true);
  let cdEnd = eocdPos; // the central directory ends where the (zip64) end records begin
  if (at >= 20 && t.getUint32(at - 20, true) === ZIP64_LOCATOR) {
    const recPos = safe(t.getBigUint64(at - 12, true), "zip64 record offset", corrupt);
    if (recPos + 56 > eocdPos - 20) corrupt(`zip64 end record at ${recPos} is out of place`);
    const r = view(src.read(recPos, 56));
    if (r.getUint32(0, true) !== ZIP64_EOCD) corrupt("zip64 end record signature is wrong");
    count = safe(r.getBigUint64(32, true), "entry count", corrupt);
    cdSize = safe(r.getBigUint64(40, true), "central directory size", corrupt);
    cdOffset = safe(r.getBigUint64(48, true), "central directory offset", corrupt);
    cdEnd = recPos;
  }
  if (cdOffset + cdSize > cdEnd) {
    corrupt(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past byte ${cdEnd}`);
  }
  if (count * 46 > cdSize) corrupt(`${count} entries cannot fit in ${cdSize} directory bytes`);
  const cd = src.read(cdOffset, cdSize);
  const d = view(cd);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || d.getUint32(p, true) !== CENTRAL) {
      corrupt(`central directory entry ${i} at byte ${cdOffset + p} is malformed`);
    }
    const flags = d.getUint16(p + 8, true);
    const method = d.getUint16(p + 10, true);
    let compressedSize = d.getUint32(p + 20, true);
    let size = d.getUint32(p + 24, true);
    const nameLen = d.getUint16(p + 28, true);
    const extraLen = d.getUint16(p + 30, true);
    const commentLen = d.getUint16(p + 32, true);
    let localHeaderOffset = d.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) corrupt(`central directory entry ${i} runs past the directory`);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 8-byte values of the fields saturated at 0xffffffff, in this order.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = d.getUint16(q, true);
      const len = d.getUint16(q + 2, true);
      if (q + 4 + len > extraEnd) corrupt(`extra field of ${name} runs past its entry`);
      if (id === 0x0001) {
        let f = q + 4;
        const next64 = (what: string): number => {
          if (f + 8 > q + 4 + len) corrupt(`zip64 field of ${name} lacks the ${what}`);
          f += 8;
          return safe(d.getBigUint64(f - 8, true), what, corrupt);
        };
        if (size === 0xffffffff) size = next64("size");
        if (compressedSize === 0xffffffff) compressedSize = next64("compressed size");
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next64("offset");
      }
      q += 4 + len;
    }
    if (flags & 1) corrupt(`${name} is encrypted`);
    if (method !== 0 && method !== 8) corrupt(`${name} uses compression method ${method}`);
    if (method === 0 && compressedSize !== size) {
      corrupt(`stored entry ${name} has ${compressedSize} bytes but claims ${size}`);
    }
    if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      corrupt(`${name} claims to inflate ${compressedSize} bytes to ${size}`);
    }
    // Refused here, before anything is allocated: data that would run into the directory.
    if (localHeaderOffset + 30 + nameLen + compressedSize > cdOffset) {
      corrupt(
        `${name} claims ${compressedSize} bytes at offset ${localHeaderOffset}, past the entries' end at byte ${cdOffset}`,
      );
    }
    if (entries.has(name)) corrupt(`two entries are named ${name}`);
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p = next;
  }
  return entries;
}

function safe(v: bigint, what: string, corrupt: (what: string) => never): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : corrupt(`${what} ${v} is too large`);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
