// `npm run bench -- <name>`: checks machine load, runs bench/<name>.bench.ts, prints its figures
// as ONE line of JSON (the last line of stdout) and writes the same JSON to
// bench/results/<name>-<date>.json with the date, machine, provider, versions and commit.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { collectVersions, gitCommit, machineInfo } from "../src/cli/run-info.js";
import type { Bench } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""));

const { positionals, values } = parseArgs({
  args: process.argv.slice(2),
  options: { "no-save": { type: "boolean" }, help: { type: "boolean" } },
  allowPositionals: true,
});
const name = positionals[0];
if (values.help || !name || !available.includes(name)) {
  const lines = [
    "Usage: npm run bench -- <name> [--no-save]",
    `Benchmarks: ${available.join(", ")}`,
    "Writes bench/results/<name>-<date>.json unless --no-save.",
  ];
  if (name && !available.includes(name)) lines.unshift(`bench: no bench/${name}.bench.ts`);
  process.stderr.write(`${lines.join("\n")}\n`);
  process.exit(values.help ? 0 : 1);
}

const log = (line: string) => process.stderr.write(`[bench ${name}] ${line}\n`);
const machine = machineInfo();
log(
  `load average ${machine.loadavg.join(" ")} on ${machine.logicalCores} cores (${machine.cpuModel})`,
);
if (machine.loadavg[0] > 0.5 * machine.logicalCores) {
  log(
    "warning: the machine is busy; timings will be noisy (ratios from interleaved runs hold up better)",
  );
}

const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { bench?: Bench };
if (!mod.bench) {
  process.stderr.write(`bench: bench/${name}.bench.ts does not export \`bench\`\n`);
  process.exit(1);
}
log(mod.bench.question);
const started = new Date();
const t0 = performance.now();
const figures = await mod.bench.run({ log });
const versions = await collectVersions();

const result = {
  bench: name,
  date: started.toISOString(),
  machine: {
    cpu: machine.cpuModel,
    cores: machine.logicalCores,
    physical_cores: machine.physicalCores,
    simd: machine.simd,
    memory_gib: machine.memoryGiB,
    platform: machine.platform,
  },
  loadavg_before: machine.loadavg,
  loadavg_after: machineInfo().loadavg,
  provider: mod.bench.provider,
  node: versions.node,
  onnxruntime_node: versions.onnxruntimeNode,
  commit: gitCommit(join(here, "..")),
  wall_s: Math.round((performance.now() - t0) / 100) / 10,
  ...figures,
};
const line = JSON.stringify(result);
if (!values["no-save"]) {
  const dir = join(here, "results");
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${started.toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${file}`);
}
process.stdout.write(`${line}\n`);
