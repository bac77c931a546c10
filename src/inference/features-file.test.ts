import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensorsFile } from "../io/index.js";
import type { Embeddings } from "./embed.js";
import { featureFormat, npyHeader, writeFeatures, writeNpy } from "./features-file.js";

describe("npy", () => {
  it("writes version 1.0 headers that end on a 64-byte boundary", () => {
    const h = npyHeader([3, 384]);
    expect(h.length % 64).toBe(0);
    expect(Array.from(h.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    expect(new DataView(h.buffer).getUint16(8, true)).toBe(h.length - 10);
    const text = Buffer.from(h.subarray(10)).toString("latin1");
    expect(text.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 384), }");
    expect(text.endsWith("\n")).toBe(true);
    expect(Buffer.from(npyHeader([5]).subarray(10)).toString("latin1")).toContain("'shape': (5,)");
  });

  it("stores little-endian float32 data after the header", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "npy-")), "x.npy");
    await writeNpy(path, Float32Array.of(1.5, -2, 3), [1, 3]);
    const bytes = readFileSync(path);
    const data = bytes.subarray(npyHeader([1, 3]).length);
    expect(
      Array.from(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + 12))),
    ).toEqual([1.5, -2, 3]);
  });
});

describe("writeFeatures", () => {
  const e: Embeddings = {
    cls: Float32Array.of(1, 2, 3, 4),
    patches: Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i),
    count: 2,
    dim: 2,
    numPatches: 3,
    numRegisters: 0,
    paths: ["a.jpg", "dir/b.png"],
    skipped: [],
  };

  it("writes safetensors keys and a .jsonl line per row", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "feat-")), "f.safetensors");
    const { files } = await writeFeatures(out, e);
    expect(files).toEqual([out, `${out}.jsonl`]);
    const t = readSafetensorsFile(out);
    expect(t.get("cls")?.shape).toEqual([2, 2]);
    expect(t.get("patch_tokens")?.shape).toEqual([2, 3, 2]);
    expect(readFileSync(`${out}.jsonl`, "utf8")).toBe(
      '{"index":0,"path":"a.jpg"}\n{"index":1,"path":"dir/b.png"}\n',
    );
  });

  it("puts extra arrays beside a .npy output", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "feat-")), "f.npy");
    const { files } = await writeFeatures(out, e);
    expect(files.map((f) => f.slice(out.length - 5))).toEqual([
      "f.npy",
      "f.patch_tokens.npy",
      "f.npy.jsonl",
    ]);
  });

  it("refuses other file types, naming the choices", () => {
    expect(() => featureFormat("feats.csv")).toThrowErrorMatchingInlineSnapshot(
      `[ConfigError: config: unsupported features file "feats.csv"; expected a name ending in .npy or .safetensors]`,
    );
  });
});
