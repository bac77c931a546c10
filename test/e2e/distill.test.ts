// `dinov2 distill` end to end on an image folder (synthetic classes written as PNG files): a
// teacher trained by `dinov2 train` teaches a smaller student; the teacher stays frozen and the
// run exports the student's EMA. (Whether distillation beats training from scratch is measured
// by scripts/distill-vs-scratch.ts, at sizes too slow for the test suite.)
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { openDataset } from "../../src/data/datasets/dataset.js";
import { writePng } from "../../src/eval/png.js";
import { readSafetensorsFile } from "../../src/io/index.js";
import { loadBackbone } from "../../src/models/backbone.js";

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
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    args,
    (t) => out.push(t),
    (t) => err.push(t),
  );
  if (code !== 0) throw new Error(`dinov2 ${args[0]} exited ${code}:\n${err.join("\n")}`);
  return JSON.parse(out[out.length - 1]!) as Record<string, unknown>;
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

async function renderFolder(dir: string, seed: number, perClass: number): Promise<void> {
  const ds = openDataset({ kind: "synthetic", seed, length: perClass * 10, size: 32 });
  for (let i = 0; i < ds.length; i++) {
    const rec = await ds.get(i);
    if (!rec) continue;
    mkdirSync(join(dir, String(rec.label)), { recursive: true });
    writePng(join(dir, String(rec.label), `${i}.png`), rec.data, rec.width, rec.height);
  }
}
