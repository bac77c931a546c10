// Writing a flat state dict as `torch.save(state_dict, path)` would: a zip archive with
// `<name>/data.pkl` (a protocol-2 pickle of an OrderedDict of `_rebuild_tensor_v2` calls on
// persistent storages), one stored `data/<n>` record per tensor (64-byte aligned), `byteorder`
// and `version`. `torch.load` (weights_only too) reads it; so does our reader.
import { randomBytes } from "node:crypto";
import { renameSync, rmSync } from "node:fs";
import { basename } from "node:path";
import type { HostTensor } from "../core/host-tensor.js";
import { LazyTensor } from "./lazy-tensor.js";
import { encodeTensor, HOST_TO_STORED, type StoredDType } from "./tensor-bytes.js";
import { ZipWriter } from "./zip-writer.js";

const STORAGE_CLASS: Readonly<Record<StoredDType, string>> = {
  F64: "DoubleStorage",
  F32: "FloatStorage",
  F16: "HalfStorage",
  BF16: "BFloat16Storage",
  I64: "LongStorage",
  I32: "IntStorage",
  I8: "CharStorage",
  U8: "ByteStorage",
  BOOL: "BoolStorage",
};

/** What the writer needs of a tensor before its bytes: lazy tensors are loaded one at a time. */
type AnyTensor = HostTensor | LazyTensor;

/** Writes `tensors` (keys in order) as a torch.save archive, atomically (temp file + rename).
 * Lazy tensors are loaded and written one by one, so memory stays near the largest tensor.
 * `nestUnder` writes `torch.save({nestUnder: state_dict})` instead, the layout of the official
 * trainer's `teacher_checkpoint.pth` (`{"teacher": model.teacher.state_dict()}`). */
export function writePthFile(
  path: string,
  tensors: ReadonlyMap<string, AnyTensor>,
  opts: { readonly forceZip64?: boolean; readonly nestUnder?: string } = {},
): void {
  const archive =
    basename(path)
      .replace(/\.[^.]*$/, "")
      .replace(/[^A-Za-z0-9_]/g, "_") || "archive";
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const zip = new ZipWriter(tmp, opts.forceZip64 ? { forceZip64: true } : {});
  try {
    const pkl = statePickle(tensors, opts.nestUnder);
    zip.add(`${archive}/data.pkl`, [pkl], pkl.length);
    const little = new TextEncoder().encode("little");
    zip.add(`${archive}/byteorder`, [little], little.length);
    let i = 0;
    for (const t of tensors.values()) {
      const { bytes } = encodeTensor(t instanceof LazyTensor ? t.load() : t);
      zip.add(`${archive}/data/${i++}`, [bytes], bytes.length);
    }
    const version = new TextEncoder().encode("3\n");
    zip.add(`${archive}/version`, [version], version.length);
    zip.finish();
    renameSync(tmp, path);
  } catch (err) {
    try {
      zip.abort();
    } catch {}
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The data.pkl of a flat OrderedDict (or of `{nestUnder: OrderedDict}`); tensor i lives on
 * storage "i", contiguous, offset 0. */
export function statePickle(
  tensors: ReadonlyMap<string, AnyTensor>,
  nestUnder?: string,
): Uint8Array {
  const p = new Pickler();
  p.op(0x80, 2); // PROTO 2
  if (nestUnder !== undefined) p.op(0x7d).str(nestUnder); // EMPTY_DICT, key
  p.global("collections", "OrderedDict").op(0x29, 0x52); // OrderedDict()
  p.op(0x28); // MARK
  let i = 0;
  for (const [key, t] of tensors) {
    const shape = t.shape;
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const numel = shape.reduce((a, b) => a * b, 1);
    p.str(key);
    p.global("torch._utils", "_rebuild_tensor_v2").op(0x28);
    p.op(0x28).str("storage").global("torch", STORAGE_CLASS[HOST_TO_STORED[t.dtype]]);
    p.str(String(i++)).str("cpu").int(numel).op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0).ints(shape).ints(stride).op(0x89); // offset, size, stride, requires_grad=False
    p.global("collections", "OrderedDict").op(0x29, 0x52); // backward_hooks
    p.op(0x74, 0x52); // TUPLE, REDUCE
  }
  p.op(0x75); // SETITEMS
  if (nestUnder !== undefined) p.op(0x73); // SETITEM
  p.op(0x2e); // STOP
  return p.bytes();
}

/** The few opcodes a state dict needs. */
class Pickler {
  private readonly chunks: number[] = [];

  op(...bytes: number[]): this {
    for (const b of bytes) this.chunks.push(b);
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58, ...le(b.length, 4)); // BINUNICODE
    return this.op(...b);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  int(n: number): this {
    if (n < 256) return this.op(0x4b, n); // BININT1
    if (n < 65536) return this.op(0x4d, ...le(n, 2)); // BININT2
    if (n < 2 ** 31) return this.op(0x4a, ...le(n, 4)); // BININT
    return this.op(0x8a, 8, ...le(n, 8)); // LONG1, 8 bytes (sizes are below 2^53)
  }
  ints(values: readonly number[]): this {
    this.op(0x28);
    for (const v of values) this.int(v);
    return this.op(0x74);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function le(n: number, width: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (let i = 0; i < width; i++, v >>= 8n) out.push(Number(v & 0xffn));
  return out;
}
