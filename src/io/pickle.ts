// A restricted pickle VM: the protocol 2-5 opcodes that PyTorch state dicts use. Nothing is
// called unless the caller's findClass returns a PickleGlobal, so a foreign global never runs.
import { CheckpointError } from "./checkpoint-error.js";

/** A global the caller allows; REDUCE and NEWOBJ call `fn` with the argument tuple. */
export class PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly fn: (args: readonly unknown[]) => unknown,
  ) {}
}

export interface UnpickleHooks {
  /** The object a GLOBAL names; throws to refuse it (before anything runs). */
  findClass(module: string, name: string): unknown;
  /** Resolves a BINPERSID id (PyTorch: a storage in the zip archive). */
  persistentLoad(pid: unknown): unknown;
}

/** Runs a pickle. Dicts become Maps, lists arrays, tuples frozen arrays, bytes Uint8Arrays. */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, source = "<pickle>"): unknown {
  const vm: Vm = new Vm(bytes, hooks, source); // annotated so fail() narrows
  while (vm.done === undefined) {
    vm.opStart = vm.pos;
    const code = vm.u8();
    const op = OPS.get(code);
    if (op === undefined) vm.fail(`unsupported opcode 0x${code.toString(16).padStart(2, "0")}`);
    op(vm);
  }
  return vm.done.value;
}

type Op = (vm: Vm) => void;

const OPS: ReadonlyMap<number, Op> = new Map<number, Op>([
  [0x80, (vm) => vm.u8() <= 5 || vm.fail("pickle protocol above 5")], // PROTO
  [0x95, (vm) => vm.u64()], // FRAME: framing is a streaming hint only
  [0x2e, (vm) => vm.finish(vm.pop())], // STOP
  [0x7d, (vm) => vm.push(new Map())], // EMPTY_DICT
  [0x5d, (vm) => vm.push([])], // EMPTY_LIST
  [0x29, (vm) => vm.push(Object.freeze([]))], // EMPTY_TUPLE
  [0x28, (vm) => vm.mark()], // MARK
  [0x58, (vm) => vm.push(vm.utf8(vm.u32()))], // BINUNICODE
  [0x8c, (vm) => vm.push(vm.utf8(vm.u8()))], // SHORT_BINUNICODE
  [0x8d, (vm) => vm.push(vm.utf8(vm.u64()))], // BINUNICODE8
  [0x54, (vm) => vm.push(vm.latin1(vm.i32()))], // BINSTRING (py2 str)
  [0x55, (vm) => vm.push(vm.latin1(vm.u8()))], // SHORT_BINSTRING
  [0x42, (vm) => vm.push(vm.take(vm.u32()).slice())], // BINBYTES
  [0x43, (vm) => vm.push(vm.take(vm.u8()).slice())], // SHORT_BINBYTES
  [0x4a, (vm) => vm.push(vm.i32())], // BININT
  [0x4b, (vm) => vm.push(vm.u8())], // BININT1
  [0x4d, (vm) => vm.push(vm.u16())], // BININT2
  [0x8a, (vm) => vm.push(vm.long(vm.u8()))], // LONG1
  [0x8b, (vm) => vm.push(vm.long(vm.i32()))], // LONG4
  [0x47, (vm) => vm.push(vm.f64())], // BINFLOAT
  [0x88, (vm) => vm.push(true)], // NEWTRUE
  [0x89, (vm) => vm.push(false)], // NEWFALSE
  [0x4e, (vm) => vm.push(null)], // NONE
  [0x74, (vm) => vm.push(Object.freeze(vm.popMark()))], // TUPLE
  [0x85, (vm) => vm.push(Object.freeze(vm.popN(1)))], // TUPLE1
  [0x86, (vm) => vm.push(Object.freeze(vm.popN(2)))], // TUPLE2
  [0x87, (vm) => vm.push(Object.freeze(vm.popN(3)))], // TUPLE3
  [0x73, (vm) => vm.setItems(vm.popN(2))], // SETITEM
  [0x75, (vm) => vm.setItems(vm.popMark())], // SETITEMS
  [0x61, (vm) => vm.append(vm.popN(1))], // APPEND
  [0x65, (vm) => vm.append(vm.popMark())], // APPENDS
  [0x71, (vm) => vm.memo.set(vm.u8(), vm.top())], // BINPUT
  [0x72, (vm) => vm.memo.set(vm.u32(), vm.top())], // LONG_BINPUT
  [0x94, (vm) => vm.memo.set(vm.memo.size, vm.top())], // MEMOIZE
  [0x68, (vm) => vm.push(vm.memoGet(vm.u8()))], // BINGET
  [0x6a, (vm) => vm.push(vm.memoGet(vm.u32()))], // LONG_BINGET
  [0x63, (vm) => vm.push(vm.hooks.findClass(vm.line(), vm.line()))], // GLOBAL
  [0x93, (vm) => vm.push(vm.stackGlobal(vm.popN(2)))], // STACK_GLOBAL
  [0x52, (vm) => vm.push(vm.call(vm.popN(2)))], // REDUCE
  [0x81, (vm) => vm.push(vm.call(vm.popN(2)))], // NEWOBJ
  [0x62, (vm) => vm.build(vm.pop())], // BUILD
  [0x51, (vm) => vm.push(vm.hooks.persistentLoad(vm.pop()))], // BINPERSID
  [0x30, (vm) => vm.pop()], // POP
  [0x31, (vm) => vm.popMark()], // POP_MARK
  [0x32, (vm) => vm.push(vm.top())], // DUP
]);

/** The machine state plus bounds-checked readers; every failure names the file and byte. */
class Vm {
  pos = 0;
  /** Where the current opcode starts; errors point there. */
  opStart = 0;
  stack: unknown[] = [];
  readonly metastack: unknown[][] = [];
  readonly memo = new Map<number, unknown>();
  done: { value: unknown } | undefined;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    readonly hooks: UnpickleHooks,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string, at = this.opStart): never {
    throw new CheckpointError(this.source, `pickle byte ${at}: ${what}`);
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) this.fail(`${n}-byte operand runs past the end`);
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }
  private at(n: number): number {
    const p = this.pos;
    this.take(n);
    return p;
  }
  u8 = (): number => this.view.getUint8(this.at(1));
  u16 = (): number => this.view.getUint16(this.at(2), true);
  u32 = (): number => this.view.getUint32(this.at(4), true);
  i32 = (): number => this.view.getInt32(this.at(4), true);
  f64 = (): number => this.view.getFloat64(this.at(8), false); // BINFLOAT is big-endian
  u64(): number {
    const v = this.view.getBigUint64(this.at(8), true);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : this.fail(`length ${v} is too large`);
  }
  utf8 = (n: number): string => new TextDecoder().decode(this.take(n));
  latin1(n: number): string {
    let s = "";
    for (const b of this.take(n)) s += String.fromCharCode(b);
    return s;
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail("GLOBAL name is not newline-terminated");
    return this.latin1(end - this.pos + 1).slice(0, -1);
  }
  /** Little-endian two's complement, as LONG1/LONG4 store it; a number when exact. */
  long(n: number): number | bigint {
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (n > 0 && b[n - 1]! >= 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  }

  push = (v: unknown): void => void this.stack.push(v);
  top(): unknown {
    if (this.stack.length === 0) this.fail("stack is empty");
    return this.stack[this.stack.length - 1];
  }
  pop(): unknown {
    const v = this.top();
    this.stack.pop();
    return v;
  }
  popN(n: number): unknown[] {
    if (this.stack.length < n) this.fail(`needs ${n} stack items, has ${this.stack.length}`);
    return this.stack.splice(this.stack.length - n, n);
  }
  mark(): void {
    this.metastack.push(this.stack);
    this.stack = [];
  }
  popMark(): unknown[] {
    const items = this.stack;
    const prev = this.metastack.pop();
    if (prev === undefined) this.fail("no MARK to pop to");
    this.stack = prev;
    return items;
  }
  memoGet(i: number): unknown {
    if (!this.memo.has(i)) this.fail(`memo slot ${i} is empty`);
    return this.memo.get(i);
  }
  finish(value: unknown): void {
    this.done = { value };
  }

  setItems(kv: unknown[]): void {
    const d = this.top();
    if (!(d instanceof Map)) this.fail("SETITEM(S) on something that is not a dict");
    if (kv.length % 2 !== 0) this.fail("SETITEMS with an odd number of items");
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  }
  append(items: unknown[]): void {
    const list = this.top();
    if (!Array.isArray(list) || Object.isFrozen(list))
      this.fail("APPEND(S) on something that is not a list");
    list.push(...items);
  }
  stackGlobal([module, name]: unknown[]): unknown {
    if (typeof module !== "string" || typeof name !== "string")
      this.fail("STACK_GLOBAL needs two strings");
    return this.hooks.findClass(module, name);
  }
  call([fn, args]: unknown[]): unknown {
    if (!(fn instanceof PickleGlobal))
      this.fail("REDUCE/NEWOBJ on an object that is not an allowed global");
    if (!Array.isArray(args)) this.fail(`arguments of ${fn.qualifiedName} are not a tuple`);
    return fn.fn(args);
  }
  /** BUILD sets instance state; the only instance state a state dict has is OrderedDict's
   * `_metadata` (module versions), which we drop. */
  build(_state: unknown): void {
    if (!(this.top() instanceof Map)) this.fail("BUILD on an object that is not an OrderedDict");
  }
}
