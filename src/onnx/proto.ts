// A minimal protobuf encoder for the ONNX messages we write (ModelProto and its parts).
// Hand-written (about 100 lines) instead of protobufjs + onnx.proto: we only ever encode, the
// field numbers below are stable since ONNX IR v3, and chunked output avoids copying weights.

const textEncoder = new TextEncoder();

/** Accumulates one message as a list of chunks; nested messages are measured, not re-copied. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  length = 0;

  private flushScratch(): void {
    if (this.scratch.length) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.length += this.scratch.length;
      this.scratch = [];
    }
  }

  private rawVarint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.scratch.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.scratch.push(Number(x));
  }

  private key(field: number, wire: number): void {
    this.rawVarint((field << 3) | wire);
  }

  varint(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.rawVarint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, 2);
    this.rawVarint(data.length);
    this.flushScratch();
    this.chunks.push(data);
    this.length += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, textEncoder.encode(s));
  }

  message(field: number, msg: ProtoWriter): this {
    msg.flushScratch();
    this.key(field, 2);
    this.rawVarint(msg.length);
    this.flushScratch();
    for (const c of msg.chunks) this.chunks.push(c); // no spread: graphs hold millions of chunks
    this.length += msg.length;
    return this;
  }

  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    inner.flushScratch();
    return this.message(field, inner);
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (const [i, v] of values.entries()) dv.setFloat32(i * 4, v, true);
    return this.bytes(field, b);
  }

  /** The encoded bytes (one copy of every chunk). */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
