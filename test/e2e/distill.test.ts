// `dinov2 distill` end to end on an image folder (synthetic classes written as PNG files): a
// teacher pretrained for longer is distilled into a smaller student, which then beats the same
// student pretrained from scratch for the same number of iterations on k-NN (official protocol,
// held-out split). The run exports the student's EMA in the official and HF layouts.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { openDataset } from "../../src/data/datasets/dataset.js";
import { writePng } from "../../src/eval/png.js";
import { loadBackbone } from "../../src/models/backbone.js";

const TINY = [
  "student.arch=vit_nano",
  "crops.global_crops_size=28",
  "crops.local_crops_size=14",
  "crops.local_crops_number=2",
  "train.batch_size_per_gpu=16",
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
  it("a longer-pretrained teacher distils into a student that beats the student from scratch", async () => {
    const root = mkdtempSync(join(tmpdir(), "dinov2-distill-e2e-"));
    const data = join(root, "train");
    const val = join(root, "val");
    await renderFolder(data, 1, 40);
    await renderFolder(val, 2, 20);
    const sets = (extra: string[]) => [...TINY, ...extra].flatMap((s) => ["--set", s]);
    const common = ["--preset", "vits14-demo", "--data", data, "--val", val, "--threads", "2"];

    await cli([
      "train",
      ...common,
      "--output-dir",
      join(root, "teacher"),
      "--iters",
      "200",
      ...sets(["student.depth=3", "optim.epochs=10"]),
    ]);
    const teacher = join(root, "teacher", "checkpoints", "checkpoint-0000200.safetensors");

    const student = ["student.depth=1", "optim.epochs=3"];
    const distilled = await cli([
      "distill",
      "--teacher",
      teacher,
      ...common,
      "--output-dir",
      join(root, "distilled"),
      "--iters",
      "60",
      ...sets(student),
    ]);
    const scratch = await cli([
      "train",
      ...common,
      "--output-dir",
      join(root, "scratch"),
      "--iters",
      "60",
      ...sets(student),
    ]);
    console.log(
      JSON.stringify({ distilled: distilled.knn_top1_k20, scratch: scratch.knn_top1_k20 }),
    );
    expect(distilled.knn_top1_k20 as number).toBeGreaterThan(scratch.knn_top1_k20 as number);

    // The exported result is the student's EMA, reloadable with its architecture.
    const files = distilled.files as Record<string, string>;
    expect(loadBackbone(files.teacher_official!, { numHeads: 3 }).options.depth).toBe(1);
  }, 900_000);
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
