import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { CheckpointError } from "./checkpoint-error.js";
import { unpickle } from "./pickle.js";
import { contiguous, f32Bytes, PickleWriter, statePickle, torchZip } from "./pth.cases.js";
import { flattenStateDict, readPth, readPthStateDict } from "./pth.js";

const noHooks = {
  findClass: () => {
    throw new Error("findClass must not be reached");
  },
  persistentLoad: () => {
    throw new Error("persistentLoad must not be reached");
  },
};

describe("restricted unpickler", () => {
  it("refuses GLOBAL os system before REDUCE can run it", () => {
    // pickle.dumps of os.system("echo pwned"), protocol 2
    const pkl = new PickleWriter()
      .proto()
      .global("os", "system")
      .str("echo pwned")
      .op(0x85, 0x52, 0x2e);
    const zip = torchZip(pkl.bytes(), {});
    expect(() => readPth(zip, "evil.pth")).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: evil.pth: refused global os.system: a state dict needs only tensors
        hint: the pickle names code outside the state_dict allow-list; it was not run. Save model.state_dict() instead]
    `);
    try {
      readPth(zip, "evil.pth");
    } catch (err) {
      expect(err).toBeInstanceOf(CheckpointError);
      expect((err as CheckpointError).file).toBe("evil.pth");
    }
  });

  it("refuses STACK_GLOBAL builtins eval (protocol 4) by name", () => {
    const pkl = new PickleWriter()
      .proto(4)
      .op(0x8c, 8, ...new TextEncoder().encode("builtins"))
      .op(0x8c, 4, ...new TextEncoder().encode("eval"))
      .op(0x93)
      .str("1+1")
      .op(0x85, 0x52, 0x2e);
    expect(() =>
      readPth(torchZip(pkl.bytes(), {}), "evil4.pth"),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: evil4.pth: refused global builtins.eval: a state dict needs only tensors
        hint: the pickle names code outside the state_dict allow-list; it was not run. Save model.state_dict() instead]
    `);
  });

  it("refuses a torch global outside the state_dict allow-list", () => {
    const pkl = new PickleWriter().proto().global("torch", "load").op(0x2e);
    expect(() => readPth(torchZip(pkl.bytes(), {}), "x.pth")).toThrow(/refused global torch\.load/);
  });

  it("refuses REDUCE on a value that is not an allowed global", () => {
    const pkl = new PickleWriter().proto().str("os.system").op(0x29, 0x52, 0x2e);
    expect(() => unpickle(pkl.bytes(), noHooks, "r.pkl")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: r.pkl: pickle byte 17: REDUCE/NEWOBJ on an object that is not an allowed global]`,
    );
  });

  it("reads scalars, lists, tuples, longs and floats", () => {
    const pkl = new PickleWriter()
      .proto()
      .op(0x5d, 0x28) // EMPTY_LIST, MARK
      .int(7)
      .int(300)
      .int(-5)
      .op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1) // LONG1 2**64
      .op(0x8a, 1, 0xff) // LONG1 -1
      .op(0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0) // BINFLOAT 1.5
      .op(0x88, 0x89, 0x4e) // True False None
      .int(1)
      .int(2)
      .op(0x86) // TUPLE2
      .op(0x65, 0x2e) // APPENDS, STOP
      .bytes();
    expect(unpickle(pkl, noHooks)).toEqual([
      7,
      300,
      -5,
      2n ** 64n,
      -1,
      1.5,
      true,
      false,
      null,
      [1, 2],
    ]);
  });

  it("follows the memo (BINPUT/BINGET) to the same object", () => {
    const pkl = new PickleWriter().proto().op(0x7d, 0x71, 0, 0x68, 0, 0x86, 0x2e).bytes();
    const [a, b] = unpickle(pkl, noHooks) as unknown[];
    expect(a).toBe(b);
  });

  it("refuses truncated operands, unknown opcodes and empty memo slots with the byte offset", () => {
    const cut = new PickleWriter().proto().str("abcdef").bytes().subarray(0, 6);
    expect(() => unpickle(cut, noHooks, "cut.pkl")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: cut.pkl: pickle byte 2: 4-byte operand runs past the end]`,
    );
    expect(() =>
      unpickle(Uint8Array.from([0x80, 2, 0x49]), noHooks, "op.pkl"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: op.pkl: pickle byte 2: unsupported opcode 0x49]`,
    );
    expect(() =>
      unpickle(Uint8Array.from([0x80, 2, 0x68, 3]), noHooks, "m.pkl"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: m.pkl: pickle byte 2: memo slot 3 is empty]`,
    );
  });
});

describe("readPth", () => {
  it("rebuilds tensors from storages, with offsets and non-contiguous strides", () => {
    // storage 0: 0..11 as float32; views: a 3x4 matrix, its transpose (strides [1, 4]),
    // and row 1 (offset 4); storage 1: int64 [5, -6]
    const s0 = f32Bytes(Array.from({ length: 12 }, (_, i) => i));
    const s1 = new Uint8Array(BigInt64Array.from([5n, -6n]).buffer);
    const base = { storage: "0", storageType: "FloatStorage", storageNumel: 12 };
    const spec = new Map([
      ["m", { ...base, offset: 0, size: [3, 4], stride: [4, 1] }],
      ["mT", { ...base, offset: 0, size: [4, 3], stride: [1, 4] }],
      ["row1", { ...base, offset: 4, size: [4], stride: [1] }],
      ["col2", { ...base, offset: 2, size: [3, 1], stride: [4, 1] }],
      [
        "ints",
        {
          storage: "1",
          storageType: "LongStorage",
          storageNumel: 2,
          offset: 0,
          size: [2],
          stride: [1],
        },
      ],
    ]);
    const sd = flattenStateDict(readPth(torchZip(statePickle(spec), { "0": s0, "1": s1 })));
    expect([...sd.get("mT")!.data]).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(sd.get("mT")!.shape).toEqual([4, 3]);
    expect([...sd.get("row1")!.data]).toEqual([4, 5, 6, 7]);
    expect([...sd.get("col2")!.data]).toEqual([2, 6, 10]);
    expect(sd.get("m")!.data).toEqual(new Float32Array(s0.buffer));
    expect(sd.get("ints")!.dtype).toBe("int64");
    expect([...sd.get("ints")!.data]).toEqual([5n, -6n]);
  });

  it("converts BFloat16 storages to float32 and keeps Half as float16 bits", () => {
    const bf16 = new Uint8Array(Uint16Array.from([0x3fc0, 0xc000]).buffer); // 1.5, -2
    const f16 = new Uint8Array(Uint16Array.from([0x3c00]).buffer); // 1.0
    const spec = new Map([
      [
        "b",
        {
          storage: "b",
          storageType: "BFloat16Storage",
          storageNumel: 2,
          offset: 0,
          size: [2],
          stride: [1],
        },
      ],
      [
        "h",
        {
          storage: "h",
          storageType: "HalfStorage",
          storageNumel: 1,
          offset: 0,
          size: [],
          stride: [],
        },
      ],
    ]);
    const sd = flattenStateDict(readPth(torchZip(statePickle(spec), { b: bf16, h: f16 })));
    expect(sd.get("b")).toEqual({
      dtype: "float32",
      shape: [2],
      data: Float32Array.from([1.5, -2]),
    });
    expect(sd.get("h")).toEqual({ dtype: "float16", shape: [], data: Uint16Array.from([0x3c00]) });
  });

  it("flattens nested OrderedDicts with dots (teacher.backbone.x)", () => {
    const inner = new Map([["backbone.cls_token", contiguous("0", [1, 1, 2])]]);
    const spec = new Map([["teacher", inner]]);
    const dir = mkdtempSync(join(tmpdir(), "pth-"));
    const file = join(dir, "teacher_checkpoint.pth");
    writeFileSync(
      file,
      torchZip(statePickle(spec, true), { "0": f32Bytes([1, 2]) }, "teacher_checkpoint"),
    );
    const sd = readPthStateDict(file);
    expect([...sd.keys()]).toEqual(["teacher.backbone.cls_token"]);
    expect([...sd.get("teacher.backbone.cls_token")!.data]).toEqual([1, 2]);
  });

  it("refuses a view that reaches past its storage", () => {
    const spec = new Map([["w", { ...contiguous("0", [2, 2]), offset: 1 }]]);
    const zip = torchZip(statePickle(spec), { "0": f32Bytes([1, 2, 3, 4]) });
    expect(() => readPth(zip, "over.pth")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: over.pth: tensor [2, 2] on storage data/0: offset 1 and stride [2, 1] reach element 4, past the storage's 4]`,
    );
  });

  it("refuses a missing or short storage record", () => {
    const spec = new Map([["w", contiguous("0", [4])]]);
    expect(() =>
      readPth(torchZip(statePickle(spec), {}), "a.pth"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: a.pth: storage data/0: no such record; expected 16 bytes]`,
    );
    const short = torchZip(statePickle(spec), { "0": f32Bytes([1]) });
    expect(() => readPth(short, "b.pth")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: b.pth: storage data/0: 4 bytes; expected 16 bytes]`,
    );
  });

  it("refuses legacy pickles, non-zip files and archives without data.pkl", () => {
    expect(() =>
      readPth(Uint8Array.from([0x80, 2, 0x8a]), "old.pth"),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: old.pth: legacy (non-zip) torch.save format
        hint: re-save it with torch>=1.6 (default _use_new_zipfile_serialization=True)]
    `);
    expect(() =>
      readPth(new TextEncoder().encode("hello"), "txt.pth"),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: txt.pth: not a zip archive
        hint: expected a torch.save .pth/.pt file]
    `);
    const other = zipSync({ "model/code.py": new Uint8Array(1) }, { level: 0 });
    expect(() => readPth(other, "ts.pt")).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: ts.pt: zip archive has no data.pkl
        hint: is this a torch.save file? TorchScript and other zip files are not state dicts]
    `);
  });

  it("refuses big-endian storages, naming the byteorder record", () => {
    const pkl = statePickle(new Map([["w", contiguous("0", [1])]]));
    const zip = zipSync(
      {
        "a/data.pkl": pkl,
        "a/byteorder": new TextEncoder().encode("big"),
        "a/data/0": f32Bytes([1]),
      },
      { level: 0 },
    );
    expect(() => readPth(zip, "be.pth")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: be.pth: key "a/byteorder": storages are big-endian; only little-endian archives are read]`,
    );
  });

  it("refuses a dict that contains itself instead of recursing forever", () => {
    // d = {}; d["self"] = d
    const pkl = new PickleWriter().proto().op(0x7d, 0x71, 0).str("self").op(0x68, 0, 0x73, 0x2e);
    expect(() => flattenStateDict(readPth(torchZip(pkl.bytes(), {})), "loop.pth")).toThrow(
      /loop\.pth: dict under "self\." contains itself/,
    );
  });

  it("refuses a checkpoint whose top level is not a dict", () => {
    const pkl = new PickleWriter().proto().op(0x5d, 0x2e).bytes();
    expect(() =>
      flattenStateDict(readPth(torchZip(pkl, {})), "list.pth"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: list.pth: holds a list, not a dict of tensors]`,
    );
  });
});
