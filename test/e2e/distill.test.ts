// `dinov2 distill` end to end on an image folder (synthetic classes written as PNG files): a
// teacher trained by `dinov2 train` teaches a smaller student; the teacher stays frozen and the
// run exports the student's EMA. (Whether distillation beats training from scratch is measured
// by scripts/distill-vs-scratch.ts, at sizes too slow for the test suite.)
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import { openDataset } from "../../src/data/datasets/dataset.js";
import { writePng } from "../../src/eval/png.js";
import { readSafetensorsFile } from "../../src/io/index.js";
import { initWeights, loadBackbone } from "../../src/models/backbone.js";
import { stepConfigFromTrain } from "../../src/train/from-config.js";
import { runTraining } from "../../src/train/loop.js";
import { SslModel } from "../../src/train/ssl-model.js";
import type { SslNetwork } from "../../src/train/ssl-teacher.js";
import { runCliCaptured } from "../helpers/run-cli-captured.js";
import { sameBits } from "../helpers/same-bits.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const TINY = [
  "student.arch=vit_nano",
  "crops.global_crops_size=28",
  "crops.local_crops_size=14",
  "crops.local_crops_number=2",
  "train.batch_size_per_gpu=4",
  "dino.head_n_prototypes=64",
  "dino.head_hidden_dim=64",
  "dino.head_bottleneck_dim=32",
  "ibot.head_n_prototypes=64",
  "train.OFFICIAL_EPOCH_LENGTH=20",
  "optim.warmup_epochs=1",
  "student.layerscale=0.1",
  "train.num_workers=0",
];

async function cli(args: string[]): Promise<Record<string, unknown>> {
  const r = await runCliCaptured(args);
  if (r.code !== 0)
    throw new Error(`dinov2 ${args[0]} exited ${r.code}:\n${r.errLines.join("\n")}`);
  return JSON.parse(r.outLines[r.outLines.length - 1]!) as Record<string, unknown>;
}

describe("dinov2 distill", () => {
  it("distils a trained teacher into a smaller student on an image folder; exports the student EMA", async () => {
    const root = mkdtempSync(join(tmpdir(), "dinov2-distill-e2e-"));
    const data = join(root, "train");
    const val = join(root, "val");
    await renderFolder(data, 1, 6);
    await renderFolder(val, 2, 3);
    const sets = (extra: string[]) => [...TINY, ...extra].flatMap((s) => ["--set", s]);
    const common = ["--preset", "vits14-demo", "--data", data, "--val", val, "--threads", "2"];
    const teacherSets = sets(["student.depth=2", "optim.epochs=2"]);
    await cli([
      "train",
      ...common,
      "--output-dir",
      join(root, "teacher"),
      "--iters",
      "4",
      ...teacherSets,
    ]);
    // Our checkpoints record the architecture, so the 48-wide teacher needs no --teacher-num-heads.
    const teacher = join(root, "teacher", "checkpoints", "checkpoint-0000004.safetensors");
    const out = join(root, "distilled");
    const r = await cli([
      "distill",
      "--teacher",
      teacher,
      ...common,
      "--output-dir",
      out,
      "--iters",
      "3",
      ...sets(["student.depth=1", "optim.epochs=2"]),
    ]);
    expect(r.iterations).toBe(3);
    expect(typeof r.knn_top1_k20).toBe("number");
    const losses = r.losses as Record<string, number>;
    expect(Object.keys(losses).sort()).toEqual([
      "dino_global_crops_loss",
      "dino_local_crops_loss",
      "ibot_loss",
      "koleo_loss",
      "total",
    ]);
    // The exported result is the student's EMA (1 block), reloadable without flags.
    const files = r.files as Record<string, string>;
    expect(loadBackbone(files.teacher_official!).options.depth).toBe(1);
    const state = readSafetensorsFile(join(out, "checkpoints", "checkpoint-0000003.safetensors"));
    const ema = state.get("student_ema.backbone.blocks.0.attn.qkv.weight")!;
    const exported = readSafetensorsFile(files.teacher_official!).get("blocks.0.attn.qkv.weight")!;
    expect(Buffer.from(exported.data.buffer).equals(Buffer.from(ema.data.buffer))).toBe(true);
    // The frozen teacher is state that never changes.
    const t0 = readSafetensorsFile(teacher).get("teacher.backbone.cls_token")!;
    const t1 = state.get("teacher.backbone.cls_token")!;
    expect(Buffer.from(t1.data.buffer).equals(Buffer.from(t0.data.buffer))).toBe(true);
  });
});

describe("distillation run", () => {
  it("resumes a killed distillation run bit-identically (student, its EMA, moments, centers)", async () => {
    const sets = [
      ...TINY_TRAIN_SETS,
      "train.OFFICIAL_EPOCH_LENGTH=3",
      "optim.epochs=3",
      "optim.warmup_epochs=1",
      // Stochastic depth on the student, so that the resumed drop-path draws are checked too.
      "distillation.student_drop_path_rate=0.3",
    ];
    const teacherArch = stepConfigFromTrain(
      resolveConfig({ preset: "vits14-demo", sets: [...TINY_TRAIN_SETS, "student.depth=2"] }),
    ).arch;
    const distillTeacher: SslNetwork = {
      arch: teacherArch,
      weights: initWeights(new SslModel(teacherArch), 11),
      file: "(in memory)",
    };
    const resolved = resolveConfig({ preset: "vits14-demo", sets });
    const data = { kind: "synthetic", seed: 3, length: 64, size: 32 } as const;
    const run = (outputDir: string, iters: number, more: { resume?: boolean } = {}) =>
      runTraining({
        resolved,
        dataset: data,
        outputDir,
        iters,
        threads: 1,
        checkpointEvery: 2,
        distillTeacher,
        ...more,
      });
    const a = mkdtempSync(join(tmpdir(), "dinov2-distill-resume-a-"));
    const b = mkdtempSync(join(tmpdir(), "dinov2-distill-resume-b-"));
    const full = await run(a, 5);
    await run(b, 2);
    const resumed = await run(b, 5, { resume: true });
    expect(resumed.resumedFrom).toBe(2);
    expect(resumed.state.iteration).toBe(5);
    const keys = [...full.state.tensors.keys()];
    for (const prefix of ["student.", "student_ema.", "teacher.", "adam.m.", "dinoCenter"])
      expect(
        keys.some((k) => k.startsWith(prefix)),
        prefix,
      ).toBe(true);
    for (const [k, v] of full.state.tensors) {
      const w = resumed.state.tensors.get(k)!;
      expect(sameBits(w, v), k).toBe(true);
    }
    // Each iteration's losses after the resume equal the uninterrupted run's.
    expect(resumed.history.map((h) => h.losses)).toEqual(
      full.history.slice(2).map((h) => h.losses),
    );
  }, 300_000);
});

async function renderFolder(dir: string, seed: number, perClass: number): Promise<void> {
  const ds = openDataset({ kind: "synthetic", seed, length: perClass * 10, size: 32 });
  for (let i = 0; i < ds.length; i++) {
    const rec = await ds.get(i);
    if (!rec) continue;
    mkdirSync(join(dir, String(rec.label)), { recursive: true });
    writePng(join(dir, String(rec.label), `${i}.png`), rec.data, rec.width, rec.height);
  }
}
