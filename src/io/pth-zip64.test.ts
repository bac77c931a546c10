// torch.save archives past 4 GiB (zip64), read by random access, and damaged archives refused.
// The big archive is sparse: its two 2.15 GiB storages are holes (never written, zeros on read),
// so building it writes a few kilobytes and the test runs in about a second.
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import { CheckpointError } from "./checkpoint-error.js";
import { officialStateDict, TINY } from "./layouts.cases.js";
import { LazyTensor } from "./lazy-tensor.js";
import { loadCheckpoint } from "./load-checkpoint.js";
import { flattenStateDict, openPthFile, readPth, readPthStateDict } from "./pth.js";
import { statePickle, writePthFile } from "./pth-writer.js";
import { ZipWriter } from "./zip-writer.js";

const dir = mkdtempSync(join(tmpdir(), "pth-zip64-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOLE_NUMEL = 576_716_800; // 2.15 GiB of float32 each; two of them put the archive past 4 GiB
const GiB = 2 ** 30;

/** A training checkpoint: the tiny teacher backbone (stored after the holes, so its offsets need
 * zip64) and a student "backbone" of two hole storages nobody should read. */
function writeBigArchive(path: string): Map<string, Uint8Array> {
  const teacher = new Map(
    [...officialStateDict({ ...TINY, swiglu: true })].map(([k, t]) => [`teacher.backbone.${k}`, t]),
  );
  const hole = new LazyTensor("float32", [HOLE_NUMEL], HOLE_NUMEL * 4, () => {
    throw new Error("a hole storage was read");
  });
  const all = new Map<string, LazyTensor | HostTensor>([
    ["student.backbone.blocks.0.mlp.w12.weight", hole],
    ["student.backbone.blocks.1.mlp.w12.weight", hole],
    ...teacher,
  ]);
  const zip = new ZipWriter(path);
  const pkl = statePickle(all);
  zip.add("big/data.pkl", [pkl], pkl.length);
  zip.add("big/data/0", [HOLE_NUMEL * 4], HOLE_NUMEL * 4);
  zip.add("big/data/1", [HOLE_NUMEL * 4], HOLE_NUMEL * 4);
  const bytes = new Map<string, Uint8Array>();
  let i = 2;
  for (const [k, t] of teacher) {
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    zip.add(`big/data/${i++}`, [b], b.length);
    bytes.set(k, b);
  }
  zip.add("big/version", [new TextEncoder().encode("3\n")], 2);
  zip.finish();
  return bytes;
}

describe("a torch.save archive over 4 GiB (zip64, sparse)", () => {
  const file = join(dir, "big.pth");
  const teacherBytes = writeBigArchive(file);
  const size = statSync(file).size;

  it("is over 4 GiB and reads named tensors by offset with bounded memory", () => {
    expect(size).toBeGreaterThan(4 * GiB);
    const before = process.memoryUsage().rss;
    const lazy = openPthFile(file);
    try {
      expect(lazy.tensors.get("student.backbone.blocks.0.mlp.w12.weight")!.shape).toEqual([
        HOLE_NUMEL,
      ]);
      const key = "teacher.backbone.blocks.1.mlp.w3.weight";
      const t = lazy.tensors.get(key)!.load();
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(teacherBytes.get(key)!))).toBe(true);
    } finally {
      lazy.close();
    }
    const ckpt = loadCheckpoint(file); // the teacher backbone only; the student is never read
    expect(ckpt.layout).toBe("training");
    expect(ckpt.stateDict).toEqual(officialStateDict({ ...TINY, swiglu: true }));
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(size / 16); // < 275 MB for a 4.3 GB file
  });

  it("refuses the archive truncated at several points, naming the file", () => {
    const cuts = [size - 1, size - 200, Math.floor(size * 0.7), 3 * GiB, 1 << 20, 10];
    for (const cut of cuts) {
      truncateSync(file, cut);
      let err: unknown;
      try {
        openPthFile(file).close();
      } catch (e) {
        err = e;
      }
      expect(err, `cut at ${cut}`).toBeInstanceOf(CheckpointError);
      expect((err as Error).message).toMatch(
        /big\.pth: zip archive is corrupt: no end-of-central-directory record[\s\S]*truncated/,
      );
    }
  });
});

describe("zip64 records and damaged directories on small archives", () => {
  const sd = new Map<string, HostTensor>([
    ["a", hostTensor("float32", [2, 3], Float32Array.from([1, -2, 3.5, 4, 5, 6]))],
    ["b", hostTensor("int64", [2], BigInt64Array.from([7n, -8n]))],
  ]);

  it("reads an archive whose every entry and end record is zip64", () => {
    const file = join(dir, "small64.pth");
    writePthFile(file, sd, { forceZip64: true });
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // zip64 end record
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBe(true); // zip64 locator
    expect(readPthStateDict(file)).toEqual(sd);
  });

  /** Patches the central directory record of `data/0` (found by its name) in a written file. */
  function patched(forceZip64: boolean, patch: (buf: Buffer, nameAt: number) => void): string {
    const file = join(dir, `patched-${forceZip64}.pth`);
    writePthFile(file, sd, { forceZip64 });
    const buf = readFileSync(file);
    // the last occurrence of the name is its central directory record's (after the local ones)
    const nameAt = buf.lastIndexOf(Buffer.from(`patched_${forceZip64}/data/0`));
    patch(buf, nameAt);
    writeFileSync(file, buf);
    return file;
  }

  it("refuses an entry claiming more bytes than the file holds, before reading it", () => {
    const file = patched(false, (buf, nameAt) => {
      buf.writeUInt32LE(0xfffffff0, nameAt - 46 + 20); // compressed size
      buf.writeUInt32LE(0xfffffff0, nameAt - 46 + 24); // size
    });
    expect(() => openPthFile(file)).toThrow(
      /patched-false\.pth: zip archive is corrupt: patched_false\/data\/0 claims 4294967280 bytes at offset \d+, past the entries' end/,
    );
  });

  it("refuses a zip64 size of 2^40 bytes the same way", () => {
    const file = patched(true, (buf, nameAt) => {
      const nameLen = buf.readUInt16LE(nameAt - 46 + 28);
      const extra = nameAt + nameLen; // zip64 field: id, len, size, compressed size, offset
      buf.writeBigUInt64LE(2n ** 40n, extra + 4);
      buf.writeBigUInt64LE(2n ** 40n, extra + 12);
    });
    expect(() => openPthFile(file)).toThrow(/data\/0 claims 1099511627776 bytes at offset/);
  });
});

describe("damaged archives are refused with a CheckpointError, never a crash", () => {
  it("survives 3000 seeded byte mutations and every truncation of a zip64 archive", () => {
    const file = join(dir, "fuzz.pth");
    writePthFile(file, officialStateDict(TINY), { forceZip64: true });
    const base = readFileSync(file);
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const cases: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const b = base.slice();
      for (let j = 0; j < 1 + Math.floor(rnd() * 4); j++) {
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      }
      cases.push(b);
    }
    for (let cut = 0; cut < base.length; cut += 7) cases.push(base.subarray(0, cut));
    let refused = 0;
    for (const b of cases) {
      try {
        flattenStateDict(readPth(b, "fuzz.pth"), "fuzz.pth");
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(cases.length / 4); // most damage is seen, none crashes
  });
});
