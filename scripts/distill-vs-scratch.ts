// The distillation learning check at a size where the teacher has learned something: pretrain a
// teacher once (or take one), then for each seed distill it into a smaller student for N
// iterations and pretrain the same student from scratch for N iterations (same seed: same student
// initialisation, same data order), and report k-NN top-1 (official protocol, k = 20) on a
// held-out split of the synthetic set: a table per seed and the mean ± standard error of
// distilled minus scratch, paired by seed.
//   npx tsx scripts/distill-vs-scratch.ts [--teacher FILE] [--teacher-iters 500] [--iters 120]
//     [--seeds 1,2,3] [--student-depth 2] [--set k=v ...] [--teacher-set k=v ...]
//     [--distill-set k=v ...] [--threads N]
//     [--out runs/distill-check]
// Each finished run is appended to <out>/results.jsonl and skipped when the script is run again,
// so a stopped comparison continues where it stopped, and seeds may run in parallel processes
// (one --seeds each, same --out); a last run with all the seeds then only summarises. The
// summary goes to <out>/summary.md and, as one JSON line, to stdout. With --teacher, a
// {"arm":"teacher"} row already in results.jsonl (e.g. from the teacher's metrics.jsonl) is shown.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "../src/cli/run-cli.js";
import { openDataset } from "../src/data/datasets/dataset.js";
import { writePng } from "../src/eval/png.js";

const { values: v } = parseArgs({
  options: {
    teacher: { type: "string" },
    "teacher-iters": { type: "string", default: "500" },
    iters: { type: "string", default: "120" },
    seeds: { type: "string", default: "1,2,3" },
    "student-depth": { type: "string", default: "2" },
    out: { type: "string", default: "runs/distill-check" },
    set: { type: "string", multiple: true, default: [] },
    "teacher-set": { type: "string", multiple: true, default: [] },
    "distill-set": { type: "string", multiple: true, default: [] },
    threads: { type: "string" },
  },
});
const out = v.out!;
// An empty --seeds trains (or checks) the teacher only, for starting the seeds in parallel after.
const seeds = (v.seeds ? v.seeds.split(",") : []).map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`--seeds: "${s}" is not an integer`);
  return n;
});

async function renderFolder(dir: string, seed: number, perClass: number): Promise<void> {
  if (existsSync(dir)) return;
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

interface Row {
  readonly arm: "teacher" | "distilled" | "scratch";
  readonly seed: number;
  readonly knn_top1_k20: number;
  readonly seconds: number;
}
const resultsFile = join(out, "results.jsonl");
mkdirSync(out, { recursive: true });
const done: Row[] = existsSync(resultsFile)
  ? readFileSync(resultsFile, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Row)
  : [];
const find = (arm: Row["arm"], seed: number) => done.find((r) => r.arm === arm && r.seed === seed);

async function measured(arm: Row["arm"], seed: number, args: string[]): Promise<Row> {
  const prior = find(arm, seed);
  if (prior) {
    process.stderr.write(`${arm} seed ${seed}: done before (${prior.knn_top1_k20})\n`);
    return prior;
  }
  const t0 = performance.now();
  const r = await cli(args);
  const row: Row = {
    arm,
    seed,
    knn_top1_k20: Number(r.knn_top1_k20),
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  appendFileSync(resultsFile, `${JSON.stringify(row)}\n`);
  done.push(row);
  return row;
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
  ...(v.threads ? ["--threads", v.threads] : []),
];
const sets = v.set!.flatMap((s) => ["--set", s]);
let teacher = v.teacher;
let teacherRow: Row | undefined = find("teacher", 0);
if (!teacher) {
  const iters = v["teacher-iters"]!;
  teacherRow = await measured("teacher", 0, [
    "train",
    ...common,
    ...sets,
    ...v["teacher-set"]!.flatMap((s) => ["--set", s]),
    "--seed",
    "0",
    "--output-dir",
    join(out, "teacher"),
    "--iters",
    iters,
  ]);
  teacher = join(out, "teacher", "checkpoints", `checkpoint-${iters.padStart(7, "0")}.safetensors`);
}
if (seeds.length === 0) process.exit(0);
const student = [...sets, "--set", `student.depth=${v["student-depth"]}`, "--iters", v.iters!];
const pairs: { seed: number; distilled: Row; scratch: Row }[] = [];
for (const seed of seeds) {
  const s = ["--seed", String(seed)];
  const distilled = await measured("distilled", seed, [
    "distill",
    "--teacher",
    teacher,
    ...common,
    ...student,
    ...v["distill-set"]!.flatMap((x) => ["--set", x]),
    ...s,
    "--output-dir",
    join(out, `distilled-${seed}`),
  ]);
  const scratch = await measured("scratch", seed, [
    "train",
    ...common,
    ...student,
    ...s,
    "--output-dir",
    join(out, `scratch-${seed}`),
  ]);
  pairs.push({ seed, distilled, scratch });
}

const diffs = pairs.map((p) => p.distilled.knn_top1_k20 - p.scratch.knn_top1_k20);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const m = mean(diffs);
// Standard error of the mean paired difference (sample standard deviation / sqrt(n)).
const se =
  diffs.length > 1
    ? Math.sqrt(diffs.reduce((a, d) => a + (d - m) ** 2, 0) / (diffs.length - 1) / diffs.length)
    : Number.NaN;
const f3 = (x: number) => x.toFixed(3);
const lines = [
  `Teacher: ${teacher}${teacherRow ? ` (k-NN top-1 ${f3(teacherRow.knn_top1_k20)}, ${teacherRow.seconds} s)` : ""}`,
  `Student: vits14-demo with student.depth=${v["student-depth"]}, ${v.iters} iterations; --set ${v.set!.join(" ") || "(none)"}${v["distill-set"]!.length > 0 ? `; distillation only: --set ${v["distill-set"]!.join(" ")}` : ""}`,
  "",
  "| seed | distilled | scratch | distilled − scratch | seconds (distill / scratch) |",
  "| --- | --- | --- | --- | --- |",
  ...pairs.map(
    (p, i) =>
      `| ${p.seed} | ${f3(p.distilled.knn_top1_k20)} | ${f3(p.scratch.knn_top1_k20)} | ${diffs[i]! >= 0 ? "+" : ""}${f3(diffs[i]!)} | ${p.distilled.seconds} / ${p.scratch.seconds} |`,
  ),
  `| mean ± SE (n = ${pairs.length}) | ${f3(mean(pairs.map((p) => p.distilled.knn_top1_k20)))} | ${f3(mean(pairs.map((p) => p.scratch.knn_top1_k20)))} | ${m >= 0 ? "+" : ""}${f3(m)} ± ${f3(se)} | |`,
];
writeFileSync(join(out, "summary.md"), `${lines.join("\n")}\n`);
process.stderr.write(`${lines.join("\n")}\n`);
process.stdout.write(
  `${JSON.stringify({
    teacher_knn_top1_k20: teacherRow?.knn_top1_k20 ?? null,
    seeds,
    distilled_knn_top1_k20: pairs.map((p) => p.distilled.knn_top1_k20),
    scratch_knn_top1_k20: pairs.map((p) => p.scratch.knn_top1_k20),
    diff_mean: m,
    diff_se: se,
    iters: Number(v.iters),
    student_depth: Number(v["student-depth"]),
  })}\n`,
);
