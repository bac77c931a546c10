// The run of each `dinov2 curate` stage: parse the flags once, refuse those a stage does not use,
// open the store, dispatch to the stage's CLI wiring (src/cli/curate/<stage>.ts, around the
// shared context of curate/context.ts), and chain them for `curate run`. The stages' work lives
// in src/curate/<stage>-stage.ts.
import { resolve } from "node:path";
import { exportStage } from "../curate/export-stage.js";
import { reportStage } from "../curate/report-stage.js";
import { CurateStore } from "../curate/store.js";
import { writeSyntheticPool } from "../curate/synthetic-pool.js";
import type { CommandContext } from "./command.js";
import { runCluster, runSample } from "./curate/cluster.js";
import { type CurateFlags, CurateRun } from "./curate/context.js";
import { runCalibrate, runDedup } from "./curate/dedup.js";
import { runEmbed } from "./curate/embed.js";
import { runExport, runReport } from "./curate/outputs.js";
import { runRetrieve } from "./curate/retrieve.js";
import { CURATE_FLAGS, STAGE_FLAGS } from "./curate-flags.js";
import { req } from "./curate-values.js";
import { intFlag } from "./flag-values.js";
import { UsageError } from "./usage-error.js";

/** `curate run`: every stage in one process, then the export and the report. */
async function runAll(r: CurateRun): Promise<void> {
  const out = req(r.v.output, "output", "run");
  await runEmbed(r);
  await runDedup(r);
  await runCluster(r);
  if (r.v.curated !== undefined) await runRetrieve(r);
  else if (r.v.budget !== undefined) await runSample(r);
  const e = await exportStage(r.store, undefined, out);
  r.ctx.out(`export: ${e.files} images from "${e.table}" -> ${e.imagesDir}`);
  const s = await reportStage(r.store, { out: resolve(out, "report.html") });
  r.ctx.out(`report: ${s.sections} sections -> ${resolve(out, "report.html")}`);
  r.ctx.out(`next: dinov2 train --data ${e.imagesDir} --output-dir runs/curated`);
}

const STAGES: Readonly<Record<string, (r: CurateRun) => Promise<void>>> = {
  embed: runEmbed,
  dedup: runDedup,
  calibrate: runCalibrate,
  cluster: runCluster,
  sample: runSample,
  retrieve: runRetrieve,
  export: runExport,
  report: runReport,
  run: runAll,
};

const DEFAULTED = new Set(
  Object.entries(CURATE_FLAGS)
    .filter(([, f]) => "default" in f)
    .map(([k]) => k),
);

export async function runCurate(v: CurateFlags, ctx: CommandContext): Promise<number> {
  const [stage, ...rest] = ctx.positionals;
  if (!stage || !(stage in STAGE_FLAGS)) {
    throw new UsageError(
      `curate: ${stage ? `unknown stage "${stage}"` : "no stage given"}; expected one of ${Object.keys(STAGE_FLAGS).join(", ")}`,
      { flag: "<stage>", hint: "run `dinov2 curate --help`" },
    );
  }
  refuseUnused(stage, v, rest);
  if (stage === "synth") return synth(v, ctx);
  const store = await CurateStore.open(v.db);
  try {
    const r = new CurateRun(store, v, ctx, rest);
    try {
      await STAGES[stage]!(r);
    } finally {
      await r.release();
    }
    return 0;
  } finally {
    store.close();
  }
}

/** Nothing given is silently ignored: a flag the stage does not read is an error. */
function refuseUnused(stage: string, v: CurateFlags, rest: readonly string[]): void {
  const used = new Set<string>([...STAGE_FLAGS[stage]!.flags, "db"]);
  for (const [k, val] of Object.entries(v)) {
    if (k === "help" || k === "debug" || used.has(k) || DEFAULTED.has(k)) continue;
    if (val === undefined || val === false || (Array.isArray(val) && val.length === 0)) continue;
    throw new UsageError(`--${k} does not apply to \`curate ${stage}\``, {
      flag: `--${k}`,
      hint: `\`curate ${stage}\` takes: ${STAGE_FLAGS[stage]!.flags.map((f) => `--${f}`).join(" ")}`,
    });
  }
  if (rest.length > 0 && !used.has("input"))
    throw new UsageError(`curate ${stage} takes no positional inputs; got ${rest.join(" ")}`);
}

async function synth(v: CurateFlags, ctx: CommandContext): Promise<number> {
  const out = req(v.output, "output", "synth");
  const p = await writeSyntheticPool({ dir: out, seed: intFlag(v.seed, "seed", { min: 0 }) });
  ctx.out(
    `wrote ${Object.keys(p.labels).length} pool images (${p.copies.length} planted copies, ${p.nearTest.length} near-test, ${p.corrupt.length} broken) to ${p.poolDir}, test set ${p.testDir}`,
  );
  return 0;
}
