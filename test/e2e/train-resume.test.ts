// A killed run resumes from its last checkpoint and ends bit-identical to an uninterrupted run;
// the smoke run's losses are finite, the weights move and the teacher is the EMA of the student.
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import { toNumbers } from "../../src/core/index.js";
import { runTraining } from "../../src/train/loop.js";
import { sameBits } from "../helpers/same-bits.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const SETS = [
  ...TINY_TRAIN_SETS,
  "student.drop_path_rate=0.5",
  "train.OFFICIAL_EPOCH_LENGTH=3",
  "optim.epochs=4",
  "optim.warmup_epochs=1",
];
const DATA = { kind: "synthetic", seed: 3, length: 64, size: 32 } as const;

describe("training loop", () => {
  it("resumes a killed run bit-identically from its last checkpoint", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const a = mkdtempSync(join(tmpdir(), "dinov2-resume-a-"));
    const b = mkdtempSync(join(tmpdir(), "dinov2-resume-b-"));
    const full = await runTraining({ resolved, dataset: DATA, outputDir: a, iters: 6, threads: 1 });
    await runTraining({
      resolved,
      dataset: DATA,
      outputDir: b,
      iters: 3,
      threads: 1,
      checkpointEvery: 3,
    });
    // A write that dies half way leaves a temp file behind; resume must ignore it.
    writeFileSync(join(b, "checkpoints", "checkpoint-0000004.safetensors.tmp"), "partial");
    const resumed = await runTraining({
      resolved,
      dataset: DATA,
      outputDir: b,
      iters: 6,
      threads: 1,
      resume: true,
    });
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.state.iteration).toBe(6);
    for (const [k, v] of full.state.tensors) {
      const w = resumed.state.tensors.get(k)!;
      expect(sameBits(w, v), k).toBe(true);
    }
    expect(readdirSync(join(b, "checkpoints"))).toContain("last_checkpoint");
  });

  it("smoke: finite losses, the student moves and the teacher follows it part way", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const dir = mkdtempSync(join(tmpdir(), "dinov2-smoke-"));
    const r = await runTraining({ resolved, dataset: DATA, outputDir: dir, iters: 2, threads: 1 });
    for (const s of r.history)
      for (const v of Object.values(s.losses)) expect(Number.isFinite(v)).toBe(true);
    const key = "backbone.blocks.0.attn.qkv.weight";
    const init = await runTraining({
      resolved,
      dataset: DATA,
      outputDir: mkdtempSync(join(tmpdir(), "dinov2-0-")),
      iters: 0,
      threads: 1,
    });
    const s0 = toNumbers(init.state.tensors.get(`student.${key}`)!);
    const s2 = toNumbers(r.state.tensors.get(`student.${key}`)!);
    expect(s2.some((v, i) => v !== s0[i])).toBe(true);
    // The teacher moved towards the student but is neither the initial weights nor the student.
    const t2 = toNumbers(r.state.tensors.get(`teacher.${key}`)!);
    expect(t2.some((v, i) => v !== s0[i])).toBe(true);
    expect(t2.some((v, i) => v !== s2[i])).toBe(true);
  });
});
