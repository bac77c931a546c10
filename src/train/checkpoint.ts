// Checkpoints: the whole training state in one safetensors file, written atomically and durably
// (temp file, fsync, rename, fsync of the folder; the previous checkpoint stays intact if writing
// fails or the power goes), the newest kept as named
// in `last_checkpoint`, older ones pruned.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readSafetensorsFile, writeFileDurably, writeSafetensorsFile } from "../io/index.js";
import type { TrainState } from "./state.js";

const POINTER = "last_checkpoint";

export interface CheckpointInfo {
  readonly path: string;
  readonly iteration: number;
}

/** Writes `checkpoint-<iteration>.safetensors` and points `last_checkpoint` at it. */
export function saveCheckpoint(
  dir: string,
  state: TrainState,
  meta: Readonly<Record<string, string>> = {},
  keep = 2,
): CheckpointInfo {
  mkdirSync(dir, { recursive: true });
  const name = `checkpoint-${String(state.iteration).padStart(7, "0")}.safetensors`;
  writeSafetensorsFile(join(dir, name), new Map(state.tensors), {
    ...meta,
    iteration: String(state.iteration),
  });
  writeFileDurably(join(dir, POINTER), new TextEncoder().encode(`${name}\n`));
  const old = readdirSync(dir)
    .filter((f) => /^checkpoint-\d+\.safetensors$/.test(f) && f !== name)
    .sort();
  for (const f of old.slice(0, Math.max(0, old.length - (keep - 1)))) rmSync(join(dir, f));
  return { path: join(dir, name), iteration: state.iteration };
}

/**
 * For `--resume`: the state saved last in `dir`, or null after saying (through `log`) that there
 * is no checkpoint yet and the run starts fresh.
 */
export function loadCheckpointForResume(dir: string, log: (s: string) => void): TrainState | null {
  const state = loadLatestCheckpoint(dir);
  if (!state) log(`resume: no checkpoint in ${dir} yet (no ${POINTER}); starting a fresh run`);
  else log(`resume: continuing from iteration ${state.iteration} (${dir})`);
  return state;
}

/** The state saved last in `dir`, or null when there is none. */
export function loadLatestCheckpoint(dir: string): TrainState | null {
  const pointer = join(dir, POINTER);
  if (!existsSync(pointer)) return null;
  const file = join(dir, readFileSync(pointer, "utf8").trim());
  const tensors = readSafetensorsFile(file);
  const m = /checkpoint-(\d+)\.safetensors$/.exec(file);
  if (!m) throw new Error(`${pointer} names ${file}, not a checkpoint file`);
  return { iteration: Number(m[1]), tensors };
}
