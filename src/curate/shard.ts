// Which part of a stage this process runs: `--shard I/N`, or `--shard N` with I read from the
// engine's array index (Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX; SLURM arrays:
// SLURM_ARRAY_TASK_ID, numbered from 0). Every stage splits its rows the same way: row r belongs
// to shard r mod N, so the parts are balanced whatever the order of the pool.
import { CurateError } from "./errors.js";

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const SINGLE: Shard = { index: 0, count: 1 };

const INDEX_VARS = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"] as const;

/**
 * Parses `--shard` ("I/N" or "N"); `env` is read only when the flag gives no index.
 * @example parseShard("2/8", {}) // { index: 2, count: 8 }
 *          parseShard("8", { JOB_COMPLETION_INDEX: "3" }) // { index: 3, count: 8 }
 */
export function parseShard(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Shard {
  if (flag === undefined) return SINGLE;
  const m = /^(?:(\d+)\/)?(\d+)$/.exec(flag.trim());
  if (!m) {
    throw new CurateError("--shard", `expected I/N or N; got "${flag}"`, "e.g. --shard 0/4");
  }
  const count = Number(m[2]);
  let index: number;
  if (m[1] !== undefined) index = Number(m[1]);
  else {
    const name = INDEX_VARS.find((v) => env[v] !== undefined && env[v] !== "");
    if (!name) {
      throw new CurateError(
        "--shard",
        `"${flag}" gives no index and neither ${INDEX_VARS.join(" nor ")} is set`,
        "give --shard I/N, or run as a Kubernetes Indexed Job / SLURM array",
      );
    }
    index = Number(env[name]);
    if (!/^\d+$/.test(env[name]!)) {
      throw new CurateError("--shard", `${name}="${env[name]}" is not a non-negative integer`);
    }
  }
  if (count < 1 || index >= count) {
    throw new CurateError(
      "--shard",
      `index must be in [0, ${count}) and N >= 1; got ${index}/${count}`,
    );
  }
  return { index, count };
}

/** True when row `row` (in the stage's canonical order) belongs to `shard`. */
export function ownsRow(shard: Shard, row: number): boolean {
  return row % shard.count === shard.index;
}

/** "2of8": the suffix of the tables a shard writes. */
export function shardTag(shard: Shard): string {
  return `${shard.index}of${shard.count}`;
}
