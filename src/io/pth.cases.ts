// Test-only builders (excluded from the build): hand-assembled pickles and torch.save-style zip
// archives, so the PyTorch reader is tested without PyTorch.
import { zipSync } from "fflate";
import type { HostTensor } from "../core/host-tensor.js";

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view of storage `data/<storage>`. */
export interface TensorSpec {
  readonly storage: string;
  readonly storageType: string; // e.g. "FloatStorage"
  readonly storageNumel: number;
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

export type DictSpec = ReadonlyMap<string, TensorSpec | DictSpec>;

/** Emits opcodes; each method appends one construct, like pickle.Pickler with protocol 2. */
export class PickleWriter {
  private readonly out: number[] = [];

  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  proto(v = 2): this {
    return this.op(0x80, v);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(0x58, ...le(b.length, 4), ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, ...le(n, 2));
    return this.op(0x4a, ...le(n >>> 0, 4));
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  ints(values: readonly number[]): this {
    this.op(0x28);
    for (const v of values) this.int(v);
    return this.op(0x74); // TUPLE
  }
  tensor(t: TensorSpec): this {
    this.global("torch._utils", "_rebuild_tensor_v2").op(0x28); // MARK of the args tuple
    this.op(0x28).str("storage").global("torch", t.storageType).str(t.storage).str("cpu");
    this.int(t.storageNumel).op(0x74, 0x51); // TUPLE, BINPERSID
    this.int(t.offset).ints(t.size).ints(t.stride).op(0x89); // requires_grad=False
    this.global("collections", "OrderedDict").op(0x29, 0x52); // backward hooks: OrderedDict()
    return this.op(0x74, 0x52); // TUPLE, REDUCE
  }
  dict(d: DictSpec, ordered: boolean): this {
    if (ordered) this.global("collections", "OrderedDict").op(0x29, 0x52);
    else this.op(0x7d);
    this.op(0x28);
    for (const [k, v] of d) {
      this.str(k);
      if (v instanceof Map) this.dict(v, ordered);
      else this.tensor(v as TensorSpec);
    }
    this.op(0x75); // SETITEMS
    // OrderedDict state: {"_metadata": {}} as torch's state_dict() carries it.
    if (ordered) this.op(0x7d, 0x28).str("_metadata").op(0x7d, 0x75, 0x62);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** A state-dict pickle: protocol 2, nested dicts, tensors, STOP. */
export function statePickle(d: DictSpec, ordered = false): Uint8Array {
  return new PickleWriter().proto().dict(d, ordered).op(0x2e).bytes();
}

/** A `torch.save` zip: `<archive>/data.pkl`, `byteorder`, `data/<key>` records, stored. */
export function torchZip(
  pkl: Uint8Array,
  storages: Readonly<Record<string, Uint8Array>>,
  archive = "archive",
): Uint8Array {
  const files: Record<string, Uint8Array> = {
    [`${archive}/data.pkl`]: pkl,
    [`${archive}/byteorder`]: new TextEncoder().encode("little"),
    [`${archive}/version`]: new TextEncoder().encode("3\n"),
  };
  for (const [k, v] of Object.entries(storages)) files[`${archive}/data/${k}`] = v;
  return zipSync(files, { level: 0 });
}

/** Little-endian bytes of a float32 array. */
export function f32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A contiguous float32 tensor spec over a whole storage. */
export function contiguous(storage: string, size: readonly number[]): TensorSpec {
  const stride = size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1));
  const numel = size.reduce((a, b) => a * b, 1);
  return { storage, storageType: "FloatStorage", storageNumel: numel, offset: 0, size, stride };
}

function le(n: number, width: number): number[] {
  return Array.from({ length: width }, (_, i) => (n >>> (8 * i)) & 0xff);
}

/** torch.save of float32 tensors, each on its own storage, under an optional outer dict key
 * (`{"teacher": {...}}`), with OrderedDicts as module.state_dict() returns them. */
export function torchSave(tensors: ReadonlyMap<string, HostTensor>, wrap?: string): Uint8Array {
  const spec = new Map<string, TensorSpec>();
  const storages: Record<string, Uint8Array> = {};
  for (const [key, t] of tensors) {
    const name = String(spec.size);
    spec.set(key, contiguous(name, t.shape));
    storages[name] = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  const top: DictSpec = wrap === undefined ? spec : new Map([[wrap, spec]]);
  return torchZip(statePickle(top, true), storages, "checkpoint");
}
