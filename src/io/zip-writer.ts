// Writing zip archives of stored (uncompressed) entries the way torch.save lays them out: data
// aligned to 64 bytes (padding in an "FB" extra field, as PyTorchStreamWriter does), zip64
// records when an offset or size passes 4 GiB (or always, when asked), entries streamed to the
// file chunk by chunk so an archive of any size is written with little memory. Hand-written: the
// stored-entry subset is ~150 lines, and no maintained Node zip writer offers aligned data.
import { closeSync, openSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

export interface ZipWriterOptions {
  /** Data offsets are multiples of this (torch: 64). */
  readonly align?: number;
  /** Write zip64 records even for a small archive (tests exercise the zip64 reader this way). */
  readonly forceZip64?: boolean;
}

/** Bytes, or a run of that many zero bytes left as a hole (never written: sparse on disk). */
export type ZipChunk = Uint8Array | number;

interface Written {
  readonly name: Uint8Array;
  readonly crc: number;
  readonly size: number;
  readonly offset: number;
}

const MAX32 = 0xffffffff;

/** Appends entries to a new file; call finish() to write the central directory. */
export class ZipWriter {
  private readonly fd: number;
  private pos = 0;
  private readonly written: Written[] = [];
  private readonly align: number;
  private readonly force64: boolean;

  constructor(path: string, opts: ZipWriterOptions = {}) {
    this.fd = openSync(path, "w");
    this.align = opts.align ?? 64;
    this.force64 = opts.forceZip64 ?? false;
  }

  /** A stored entry of `size` bytes made of `chunks`, written in order. */
  add(name: string, chunks: Iterable<ZipChunk>, size: number): void {
    const nameBytes = new TextEncoder().encode(name);
    const offset = this.pos;
    const zip64 = this.force64 || size >= MAX32 || offset >= MAX32;
    const fixed = 30 + nameBytes.length + (zip64 ? 20 : 0);
    const pad = (this.align - ((offset + fixed + 4) % this.align)) % this.align;
    const headerLen = fixed + 4 + pad;
    let at = offset + headerLen;
    let crc = 0;
    for (const c of chunks) {
      if (typeof c === "number") {
        crc = crc32Zeros(crc, c);
        at += c;
      } else {
        crc = crc32(c, crc);
        this.writeAt(c, at);
        at += c.length;
      }
    }
    if (at - offset - headerLen !== size) {
      throw new Error(
        `zip entry ${name}: chunks hold ${at - offset - headerLen} bytes, not ${size}`,
      );
    }
    const h = new DataView(new ArrayBuffer(headerLen));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, zip64 ? 45 : 20, true); // version needed
    h.setUint32(14, crc, true);
    h.setUint32(18, zip64 ? MAX32 : size, true);
    h.setUint32(22, zip64 ? MAX32 : size, true);
    h.setUint16(26, nameBytes.length, true);
    h.setUint16(28, headerLen - 30 - nameBytes.length, true);
    new Uint8Array(h.buffer).set(nameBytes, 30);
    let x = 30 + nameBytes.length;
    if (zip64) {
      h.setUint16(x, 0x0001, true);
      h.setUint16(x + 2, 16, true);
      h.setBigUint64(x + 4, BigInt(size), true);
      h.setBigUint64(x + 12, BigInt(size), true);
      x += 20;
    }
    h.setUint16(x, 0x4246, true); // "FB": padding up to the aligned data
    h.setUint16(x + 2, pad, true);
    this.writeAt(new Uint8Array(h.buffer), offset);
    this.pos = at;
    this.written.push({ name: nameBytes, crc, size, offset });
  }

  /** Writes the central directory and the end records, and closes the file. */
  finish(): void {
    try {
      const cdOffset = this.pos;
      for (const e of this.written) this.append(centralHeader(e, this.force64));
      const cdSize = this.pos - cdOffset;
      const n = this.written.length;
      const zip64 = this.force64 || n >= 0xffff || cdOffset >= MAX32 || cdSize >= MAX32;
      if (zip64) {
        const rec = new DataView(new ArrayBuffer(56 + 20));
        rec.setUint32(0, 0x06064b50, true);
        rec.setBigUint64(4, 44n, true); // size of the rest of the record
        rec.setUint16(12, 45, true);
        rec.setUint16(14, 45, true);
        rec.setBigUint64(24, BigInt(n), true);
        rec.setBigUint64(32, BigInt(n), true);
        rec.setBigUint64(40, BigInt(cdSize), true);
        rec.setBigUint64(48, BigInt(cdOffset), true);
        rec.setUint32(56, 0x07064b50, true); // locator
        rec.setBigUint64(64, BigInt(this.pos), true);
        rec.setUint32(72, 1, true);
        this.append(new Uint8Array(rec.buffer));
      }
      const end = new DataView(new ArrayBuffer(22));
      end.setUint32(0, 0x06054b50, true);
      end.setUint16(8, zip64 ? 0xffff : n, true);
      end.setUint16(10, zip64 ? 0xffff : n, true);
      end.setUint32(12, zip64 ? MAX32 : cdSize, true);
      end.setUint32(16, zip64 ? MAX32 : cdOffset, true);
      this.append(new Uint8Array(end.buffer));
    } finally {
      closeSync(this.fd);
    }
  }

  /** Closes the file without finishing it (after an error). */
  abort(): void {
    closeSync(this.fd);
  }

  private append(bytes: Uint8Array): void {
    this.writeAt(bytes, this.pos);
    this.pos += bytes.length;
  }

  private writeAt(bytes: Uint8Array, position: number): void {
    for (let done = 0; done < bytes.length; ) {
      const len = Math.min(2 ** 30, bytes.length - done);
      done += writeSync(this.fd, bytes, done, len, position + done);
    }
  }
}

function centralHeader(e: Written, force64: boolean): Uint8Array {
  const zip64 = force64 || e.size >= MAX32 || e.offset >= MAX32;
  const extra = zip64 ? 28 : 0;
  const h = new DataView(new ArrayBuffer(46 + e.name.length + extra));
  h.setUint32(0, 0x02014b50, true);
  h.setUint16(4, zip64 ? 45 : 20, true); // version made by
  h.setUint16(6, zip64 ? 45 : 20, true); // version needed
  h.setUint32(16, e.crc, true);
  h.setUint32(20, zip64 ? MAX32 : e.size, true);
  h.setUint32(24, zip64 ? MAX32 : e.size, true);
  h.setUint16(28, e.name.length, true);
  h.setUint16(30, extra, true);
  h.setUint32(42, zip64 ? MAX32 : e.offset, true);
  new Uint8Array(h.buffer).set(e.name, 46);
  if (zip64) {
    const x = 46 + e.name.length;
    h.setUint16(x, 0x0001, true);
    h.setUint16(x + 2, 24, true);
    h.setBigUint64(x + 4, BigInt(e.size), true);
    h.setBigUint64(x + 12, BigInt(e.size), true);
    h.setBigUint64(x + 20, BigInt(e.offset), true);
  }
  return new Uint8Array(h.buffer);
}

/** crc32(`n` zero bytes, starting from `crc`) without touching them: zeros shift the CRC register
 * linearly, so the shift is a 32x32 GF(2) matrix raised to the n-th power by squaring (the
 * method of zlib's crc32_combine). */
export function crc32Zeros(crc: number, n: number): number {
  let reg = ~crc >>> 0;
  // the operator for one zero bit, then squared up to one zero byte
  let op: Uint32Array = new Uint32Array(32);
  op[0] = 0xedb88320;
  for (let i = 1; i < 32; i++) op[i] = 1 << (i - 1);
  for (let i = 0; i < 3; i++) op = square(op);
  for (let len = n; len > 0; len = Math.floor(len / 2)) {
    if (len % 2 === 1) reg = times(op, reg);
    op = square(op);
  }
  return ~reg >>> 0;
}

function times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function square(mat: Uint32Array): Uint32Array {
  return mat.map((_, i) => times(mat, mat[i]!));
}
