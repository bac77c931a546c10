// Runs every op case on a GPU execution provider in float32 and writes the record
// bench/results/gpu-ops-<date>.json: per op pass / differ (max error) / fail (the error).
// Usage: node --import tsx scripts/gpu-op-suite.ts [--provider webgpu|cuda|cpu] [--out-dir DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { collectVersions, gitCommit, machineInfo } from "../src/cli/run-info.js";
import { createRuntime, loadOrt, parseProvider, type Runtime } from "../src/runtime/index.js";
import { runOpSuite } from "../test/gpu/op-suite.js";

const { values } = parseArgs({
  options: {
    provider: { type: "string", default: "webgpu" },
    "out-dir": { type: "string", default: join("bench", "results") },
    only: { type: "string" },
  },
});
const provider = parseProvider(values.provider);
// The fallback probe makes onnxruntime log an error per refused session; the record has them.
(await loadOrt()).env.logLevel = "fatal";

const started = new Date();
const file = join(values["out-dir"], `gpu-ops-${started.toISOString().slice(0, 10)}.json`);
const versions = await collectVersions();
const machine = machineInfo();
const header = {
  bench: "gpu-ops",
  date: started.toISOString(),
  machine: {
    cpu: machine.cpuModel,
    cores: machine.logicalCores,
    memory_gib: machine.memoryGiB,
    platform: machine.platform,
  },
  node: versions.node,
  onnxruntime_node: versions.onnxruntimeNode,
  commit: gitCommit(),
};

let rt: Runtime;
try {
  rt = await createRuntime({ provider });
} catch (e) {
  // Still leave a record: on a GPU machine "the provider did not start" is the finding.
  const error = (e as Error).message;
  save({ ...header, provider, provider_error: error, ops: [] });
  process.stderr.write(`gpu-op-suite: ${error}\nwrote ${file}\n`);
  process.exit(2);
}
const reference = await createRuntime({ provider: "cpu" });
const report = await runOpSuite(rt, reference, values.only?.split(","));
const record = { ...header, ...report };

for (const op of report.ops) {
  const err = Number.isFinite(op.maxError) ? op.maxError.toExponential(1) : String(op.maxError);
  const why = op.cases.find((c) => c.status === op.status && c.error)?.error ?? "";
  const offDevice = op.cases.some((c) => c.allOnProvider === false)
    ? "  (some nodes fall back to CPU)"
    : "";
  process.stdout.write(
    `${op.op.padEnd(16)} ${op.status.padEnd(7)} max err ${err}${why ? `  ${why}` : ""}${offDevice}\n`,
  );
}
save(record);
const c = report.counts;
process.stdout.write(
  `${provider}: ${c.pass} pass, ${c.differ} differ, ${c.fail} fail; wrote ${file}\n`,
);

function save(rec: object): void {
  mkdirSync(values["out-dir"], { recursive: true });
  writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
}
