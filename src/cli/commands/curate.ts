// `dinov2 curate <stage>`: the LVD-142M curation pipeline (embed, dedup, cluster, sample,
// retrieve, export, report; `run` chains them; `synth` writes a planted synthetic pool) on a
// LanceDB database. Stage logic lives in src/curate; src/cli/curate-stages.ts and src/cli/curate/ parse and run it.
import { defineCommand } from "../command.js";
import { CURATE_FLAGS, STAGE_FLAGS } from "../curate-flags.js";
import { runCurate } from "../curate-stages.js";

export const curateCommand = defineCommand({
  name: "curate",
  summary:
    "automatic data curation (LVD-142M pipeline) on LanceDB: embed, dedup, cluster, retrieve, export",
  description: [
    "Stages, each resumable and each reading/writing tables of one LanceDB database (--db):",
    ...Object.entries(STAGE_FLAGS).map(([s, f]) => `  ${s.padEnd(9)} ${f.summary}`),
    "Sharding: embed, dedup, cluster, retrieve and export take --shard I/N (or --shard N with I from",
    "JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID); each worker writes its own part, and `--merge`",
    "(run once, after all workers) combines them; `cluster --fit` trains once before its workers.",
    "A rerun of a killed embed worker resumes where its last chunk committed.",
    "Rejected files (zero-byte, truncated, undecodable) are listed in the `rejects` table.",
  ].join("\n"),
  positionals: "<stage> [inputs...]",
  flags: CURATE_FLAGS,
  examples: [
    "dinov2 curate synth --output pool/",
    "dinov2 curate run --input pool/pool --curated pool/test --against pool/test --db pool/db --output curated/ --model vits14 --image-size 56",
    "dinov2 curate embed --input /data/uncurated --db s3://bucket/curate --model dinov2-small/ --shard 3/16",
    "dinov2 curate embed --db s3://bucket/curate --merge",
    "dinov2 curate embed --input pool/pool --db cal-db --descriptor sscd.onnx --descriptor-size 288",
    "dinov2 curate calibrate --db cal-db --planted pool/ --descriptor sscd.onnx --descriptor-size 288",
    "dinov2 train --data curated/images --output-dir runs/curated",
  ],
  run: (flags, ctx) => runCurate(flags, ctx),
});
