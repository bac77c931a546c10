// The distillation learning check at a size where the teacher has learned something: pretrain a
// teacher (or take one), distill it into a smaller student for N iterations, pretrain the same
// student from scratch for N iterations, and print both k-NN top-1 (official protocol) on a
// held-out split of the synthetic set as one JSON line.
//   npx tsx scripts/distill-vs-scratch.ts [--teacher FILE] [--teacher-iters 500] [--iters 300]
//     [--student-depth 2] [--out runs/distill-check]
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "../src/cli/run-cli.js";
import { openDataset } from "../src/data/datasets/dataset.js";
import { writePng } from "../src/eval/png.js";

const { values: v } = parseArgs({
  options: {
    teacher: { type: "string" },
    "teacher-iters": { type: "string", default: "500" },
    iters: { type: "string", default: "300" },
    "student-depth": { type: "string", default: "2" },
    out: { type: "string", default: "runs/distill-check" },
    set: { type: "string", multiple: true, default: [] },
  },
});
const out = v.out!;

async function renderFolder(dir: string, seed: number, perClass: number): Promise<void> {
  const ds = openDataset({ kind: "synthetic", seed, length: perClass * 10, size: 64 });
  for (let i = 0; i < ds.length; i++) {
    const rec = await ds.get(i);
    if (!rec) continue;
    mkdirSync(join(dir, String(rec.label)), { recursive: true });
    writePng(join(dir, String(rec.label), `${i}.png`), rec.data, rec.width, rec.height);
  }
}

async function cli(args: string[]): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const code = await runCli(
    args,
    (t) => lines.push(t),
    (t) => process.stderr.write(`${t}\n`),
  );
  if (code !== 0) throw new Error(`dinov2 ${args[0]} exited ${code}`);
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const data = join(out, "train");
const val = join(out, "val");
await renderFolder(data, 1, 100);
await renderFolder(val, 2, 50);
const common = [
  "--preset",
  "vits14-demo",
  "--data",
  data,
  "--val",
  val,
  ...v.set!.flatMap((s) => ["--set", s]),
];
let teacher = v.teacher;
let teacherKnn: unknown;
if (!teacher) {
  const t = await cli([
    "train",
    ...common,
    "--output-dir",
    join(out, "teacher"),
    "--iters",
    v["teacher-iters"]!,
  ]);
  teacherKnn = t.knn_top1_k20;
  teacher = join(
    out,
    "teacher",
    "checkpoints",
    `checkpoint-${v["teacher-iters"]!.padStart(7, "0")}.safetensors`,
  );
}
const student = ["--set", `student.depth=${v["student-depth"]}`, "--iters", v.iters!];
const distilled = await cli([
  "distill",
  "--teacher",
  teacher,
  ...common,
  "--output-dir",
  join(out, "distilled"),
  ...student,
]);
const scratch = await cli(["train", ...common, "--output-dir", join(out, "scratch"), ...student]);
process.stdout.write(
  `${JSON.stringify({
    teacher_knn_top1_k20: teacherKnn ?? null,
    distilled_knn_top1_k20: distilled.knn_top1_k20,
    scratch_knn_top1_k20: scratch.knn_top1_k20,
    iters: Number(v.iters),
    student_depth: Number(v["student-depth"]),
  })}\n`,
);
