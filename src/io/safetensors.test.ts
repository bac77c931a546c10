import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import {
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsFile,
  writeSafetensors,
  writeSafetensorsFile,
} from "./safetensors.js";

/** A safetensors file from a literal header object and raw data bytes. */
function craft(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  lenOverride?: number,
): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(lenOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const sample = () =>
  new Map<string, HostTensor>([
    ["w", hostTensor("float32", [2, 3], [1, 2, 3, 4, 5, 6.5])],
    ["d", hostTensor("float64", [2], [Math.PI, -0])],
    ["h", hostTensor("float16", [3], Uint16Array.from([0x3c00, 0x7c00, 0x8001]))],
    ["i", hostTensor("int64", [2], BigInt64Array.from([-(2n ** 62n), 7n]))],
    ["j", hostTensor("int32", [1, 1], [-3])],
    ["m", hostTensor("bool", [3], [1, 0, 1])],
    ["empty", hostTensor("float32", [0, 4], [])],
    ["scalar", hostTensor("float32", [], [42])],
  ]);

describe("safetensors round trip", () => {
  it("writes and reads back every dtype bitwise, with metadata", () => {
    const bytes = writeSafetensors(sample(), { format: "pt" });
    const back = readSafetensors(bytes);
    expect(new Map([...back].sort())).toEqual(new Map([...sample()].sort()));
    expect(parseSafetensorsHeader(bytes).metadata).toEqual({ format: "pt" });
  });

  it("is deterministic: insertion order and Map vs record give the same bytes", () => {
    const a = writeSafetensors(sample());
    const b = writeSafetensors(Object.fromEntries([...sample()].reverse()));
    expect(b).toEqual(a);
  });

  it("pads the header to 8 bytes and lays data out by dtype rank, then key, like the reference", () => {
    const bytes = writeSafetensors(sample());
    const header = parseSafetensorsHeader(bytes);
    expect((header.dataStart - 8) % 8).toBe(0);
    expect(header.entries.map((e) => e.key)).toEqual([
      "i",
      "d",
      "empty",
      "scalar",
      "w",
      "j",
      "h",
      "m",
    ]);
    expect(new TextDecoder().decode(bytes.subarray(8, 40))).toBe(
      '{"i":{"dtype":"I64","shape":[2],',
    );
  });

  it("stores bool as U8 on request and reads U8 back as bool", () => {
    const bytes = writeSafetensors({ m: hostTensor("bool", [2], [0, 1]) }, undefined, {
      boolAs: "U8",
    });
    expect(parseSafetensorsHeader(bytes).entries[0]!.dtype).toBe("U8");
    expect(readSafetensors(bytes).get("m")).toEqual(hostTensor("bool", [2], [0, 1]));
  });

  it("widens BF16 to float32", () => {
    const data = new Uint8Array(Uint16Array.from([0x3f80, 0xc040]).buffer); // 1, -3
    const file = craft({ b: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } }, data);
    expect(readSafetensors(file).get("b")).toEqual(hostTensor("float32", [2], [1, -3]));
  });

  it("writes files atomically and leaves no temporary file", () => {
    const dir = mkdtempSync(join(tmpdir(), "st-"));
    const path = join(dir, "w.safetensors");
    writeSafetensorsFile(path, sample());
    writeSafetensorsFile(path, { only: hostTensor("int32", [1], [1]) });
    expect(readdirSync(dir)).toEqual(["w.safetensors"]);
    expect([...readSafetensorsFile(path).keys()]).toEqual(["only"]);
  });
});

describe("malformed safetensors", () => {
  const f32 = (offsets: number[], shape = [2]) => ({ dtype: "F32", shape, data_offsets: offsets });

  it("refuses a file shorter than the length prefix", () => {
    expect(() =>
      readSafetensors(new Uint8Array(5), "short.safetensors"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: short.safetensors: file is 5 bytes, shorter than the 8-byte header length]`,
    );
  });

  it("refuses a header length past the end of the file (truncated header)", () => {
    const file = craft({ a: f32([0, 8]) }, new Uint8Array(8)).subarray(0, 30);
    expect(() => readSafetensors(file, "trunc.safetensors")).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: trunc.safetensors: header length 54 does not fit; got a 30-byte file, expected at most 22
        hint: the file is truncated or not a safetensors file]
    `);
  });

  it("checks a file on disk against its real size, naming the path", () => {
    const path = join(mkdtempSync(join(tmpdir(), "st-")), "cut.safetensors");
    writeFileSync(
      path,
      writeSafetensors({ a: hostTensor("float32", [4], [1, 2, 3, 4]) }).subarray(0, 70),
    );
    expect(() => readSafetensorsFile(path)).toThrow(
      /cut\.safetensors: key "a": data_offsets \[0, 16\] fall outside/,
    );
    writeFileSync(path, new Uint8Array(3));
    expect(() => readSafetensorsFile(path)).toThrow(/cut\.safetensors: file is 3 bytes/);
  });

  it("refuses a header that is not JSON", () => {
    expect(() =>
      readSafetensors(craft("{not json"), "bad.safetensors"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: bad.safetensors: header is not valid UTF-8 JSON (Expected property name or '}' in JSON at position 1)]`,
    );
    expect(() =>
      readSafetensors(craft("[1,2]"), "arr.safetensors"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: arr.safetensors: header is not a JSON object]`,
    );
  });

  it("refuses offsets outside the data section, naming the key", () => {
    const file = craft({ a: f32([0, 8]), b: f32([8, 16]) }, new Uint8Array(12));
    expect(() => readSafetensors(file, "oob.safetensors")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: oob.safetensors: key "b": data_offsets [8, 16] fall outside the 12-byte data section]`,
    );
  });

  it("refuses offsets that disagree with dtype and shape", () => {
    const file = craft({ a: f32([0, 8], [3]) }, new Uint8Array(8));
    expect(() => readSafetensors(file, "size.safetensors")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: size.safetensors: key "a": data_offsets span 8 bytes; got F32[3], expected 12 bytes]`,
    );
  });

  it("refuses an unsupported dtype, naming the key and the supported set", () => {
    const file = craft(
      { q: { dtype: "F8_E4M3", shape: [4], data_offsets: [0, 4] } },
      new Uint8Array(4),
    );
    expect(() => readSafetensors(file, "f8.safetensors")).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: f8.safetensors: key "q": unsupported dtype "F8_E4M3"
        hint: supported: F64, F32, F16, BF16, I64, I32, I8, U8, BOOL]
    `);
  });

  it("refuses gaps, overlaps and trailing bytes in the data section", () => {
    const gap = craft({ a: f32([4, 12]) }, new Uint8Array(12));
    expect(() => readSafetensors(gap, "gap.safetensors")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: gap.safetensors: key "a": data_offsets begin at 4, which leaves a gap before it (at 0)]`,
    );
    const overlap = craft({ a: f32([0, 8]), b: f32([4, 12]) }, new Uint8Array(12));
    expect(() =>
      readSafetensors(overlap, "overlap.safetensors"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: overlap.safetensors: key "b": data_offsets begin at 4, which overlaps the previous tensor (at 8)]`,
    );
    const tail = craft({ a: f32([0, 8]) }, new Uint8Array(12));
    expect(() => readSafetensors(tail, "tail.safetensors")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: tail.safetensors: tensors cover 8 bytes of a 12-byte data section]`,
    );
  });

  it("refuses malformed shapes, offsets and metadata", () => {
    const shape = craft({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } });
    expect(() => readSafetensors(shape, "s.safetensors")).toThrow(/key "a": shape \[-1\]/);
    const offs = craft({ a: { dtype: "F32", shape: [1], data_offsets: [0] } });
    expect(() => readSafetensors(offs, "o.safetensors")).toThrow(/key "a": data_offsets \[0\]/);
    const meta = craft({ __metadata__: { n: 1 } });
    expect(() => readSafetensors(meta, "m.safetensors")).toThrow(/__metadata__ must map strings/);
  });
});
