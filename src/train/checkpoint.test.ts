// Checkpoint durability: the file is fsync'd before the rename and the folder after it, and
// --resume on a folder with no checkpoint yet starts fresh and says so.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { hostTensor } from "../core/index.js";

const calls: string[] = [];
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const paths = new Map<number, string>();
  return {
    ...fs,
    openSync: (p: string, flags: string) => {
      const fd = fs.openSync(p, flags);
      paths.set(fd, String(p));
      return fd;
    },
    fsyncSync: (fd: number) => {
      calls.push(`fsync ${paths.get(fd)}`);
      fs.fsyncSync(fd);
    },
    renameSync: (a: string, b: string) => {
      calls.push(`rename ${a} -> ${b}`);
      fs.renameSync(a, b);
    },
  };
});

const { loadCheckpointForResume, loadLatestCheckpoint, saveCheckpoint } = await import(
  "./checkpoint.js"
);

describe("checkpoint durability", () => {
  it("fsyncs the file before renaming it and the folder after, for data and pointer", () => {
    const dir = mkdtempSync(join(tmpdir(), "dinov2-ckpt-"));
    calls.length = 0;
    const w = hostTensor("float32", [2], [1, 2]);
    saveCheckpoint(dir, { iteration: 7, tensors: new Map([["w", w]]) });
    const name = join(dir, "checkpoint-0000007.safetensors");
    const pointer = join(dir, "last_checkpoint");
    const tmpOf = (p: string) => new RegExp(`^fsync ${p}\\.tmp-\\d+-[0-9a-f]{8}$`);
    expect(calls).toHaveLength(6);
    expect(calls[0]).toMatch(tmpOf(name));
    expect(calls[1]).toMatch(new RegExp(`^rename ${name}\\.tmp-\\S+ -> ${name}$`));
    expect(calls[2]).toBe(`fsync ${dir}`);
    expect(calls[3]).toMatch(tmpOf(pointer));
    expect(calls[4]).toMatch(new RegExp(`^rename ${pointer}\\.tmp-\\S+ -> ${pointer}$`));
    expect(calls[5]).toBe(`fsync ${dir}`);
    expect(loadLatestCheckpoint(dir)!.iteration).toBe(7);
  });

  it("--resume with no checkpoint yet returns null and says it starts fresh", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "dinov2-ckpt-")), "checkpoints");
    const log: string[] = [];
    expect(loadCheckpointForResume(dir, (s) => log.push(s))).toBeNull();
    expect(log).toEqual([
      `resume: no checkpoint in ${dir} yet (no last_checkpoint); starting a fresh run`,
    ]);
  });
});
