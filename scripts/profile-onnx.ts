// Where an inference graph's time goes, by node kind: onnxruntime's profiler over `--runs` timed
// batches (after one warm-up) of an ONNX file, e.g. `dinov2 export-onnx` fp32, --fused, --int8.
//   node dist/cli/main.js export-onnx --model vits14 --int8 --fused --batch-size 32 --output /tmp/s8.onnx
//   npx tsx scripts/profile-onnx.ts /tmp/s8.onnx [--batch 32] [--side 224] [--runs 2] [--threads 2]
// Prints the kernel time per batch, then a table of node kinds (op type) by share.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { benchPixels } from "../bench/embed-pixels.js";
import { timedKernels } from "./ort-profile.js";

const { values: v, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: "string", default: "32" },
    side: { type: "string", default: "224" },
    runs: { type: "string", default: "2" },
    threads: { type: "string", default: "2" },
    top: { type: "string", default: "15" },
  },
});
const file = positionals[0];
if (!file) throw new Error("usage: profile-onnx.ts MODEL.onnx [--batch N] [--runs N]");
const [batch, side, runs] = [Number(v.batch), Number(v.side), Number(v.runs)];
const base = `profile-onnx-${process.pid}`;
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: Number(v.threads),
  interOpNumThreads: 1,
  enableProfiling: true,
  profileFilePrefix: join(tmpdir(), base),
});
const feeds = {
  [session.inputNames[0]!]: new ort.Tensor("float32", benchPixels(batch, side), [
    batch,
    3,
    side,
    side,
  ]),
};
const wall: number[] = [];
for (let i = 0; i < runs + 1; i++) {
  const t = performance.now();
  await session.run(feeds);
  wall.push(performance.now() - t);
}
(session as unknown as { endProfiling(): void }).endProfiling();
const timed = timedKernels(base); // the runs after the warm-up
const total = timed.reduce((s, e) => s + e.dur, 0);
const byKind = new Map<string, { us: number; n: number }>();
for (const e of timed) {
  const k = e.args?.op_name ?? "?";
  const r = byKind.get(k) ?? { us: 0, n: 0 };
  byKind.set(k, { us: r.us + e.dur, n: r.n + 1 });
}
const ms = (us: number) => (us / 1000 / runs).toFixed(0);
console.log(
  `${file}: batch ${batch} at ${side}², ${runs} profiled runs, wall ${wall
    .slice(1)
    .map((w) => w.toFixed(0))
    .join(", ")} ms, kernel time ${ms(total)} ms/run`,
);
console.log("| node kind | ms/run | share | nodes/run |\n| --- | --- | --- | --- |");
for (const [k, r] of [...byKind.entries()]
  .sort((a, b) => b[1].us - a[1].us)
  .slice(0, Number(v.top)))
  console.log(
    `| ${k} | ${ms(r.us)} | ${((100 * r.us) / total).toFixed(1)}% | ${Math.round(r.n / runs)} |`,
  );
