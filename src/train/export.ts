// Exporting the trained teacher backbone for users: official state_dict keys (safetensors) and
// a Hugging Face Dinov2Model / Dinov2WithRegistersModel directory (model.safetensors + config.json).
// Both safetensors files carry the full architecture in __metadata__ (io/arch-metadata.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostTensor } from "../core/index.js";
import {
  archMetadata,
  officialToHf,
  optionsToHfConfig,
  writeSafetensorsFile,
} from "../io/index.js";
import type { VitOptions } from "../models/presets.js";
import type { TrainState } from "./state.js";
import { STATE } from "./train-step.js";

export interface ExportedTeacher {
  readonly official: string;
  readonly hfDir: string;
}

/** Writes `<dir>/teacher_backbone.safetensors` (official keys) and `<dir>/hf/` (HF layout). */
export function exportTeacher(
  dir: string,
  weights: ReadonlyMap<string, HostTensor>,
  options: VitOptions,
): ExportedTeacher {
  mkdirSync(dir, { recursive: true });
  const official = join(dir, "teacher_backbone.safetensors");
  const arch = archMetadata(options); // the full architecture: reloads without flags
  writeSafetensorsFile(official, new Map(weights), {
    format: "pt",
    layout: "dinov2-official",
    ...arch,
  });
  const hfDir = join(dir, "hf");
  mkdirSync(hfDir, { recursive: true });
  writeSafetensorsFile(join(hfDir, "model.safetensors"), officialToHf(weights), {
    format: "pt",
    ...arch,
  });
  writeFileSync(
    join(hfDir, "config.json"),
    `${JSON.stringify(optionsToHfConfig(options), null, 2)}\n`,
  );
  return { official, hfDir };
}

/**
 * The teacher as the official do_test saves it (`eval/training_<it>/teacher_checkpoint.pth`):
 * backbone and heads under `backbone.*`, `dino_head.*`, `ibot_head.*`, here as safetensors, with
 * its official-layout backbone beside it for the eval commands.
 */
export function saveTeacherForEval(
  dir: string,
  state: TrainState,
  options: VitOptions,
  prefix: string = STATE.teacher,
): string {
  mkdirSync(dir, { recursive: true });
  const teacher = new Map(
    [...state.tensors]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const file = join(dir, "teacher_checkpoint.safetensors");
  writeSafetensorsFile(file, teacher, {
    format: "pt",
    layout: "dinov2-training-teacher",
    iteration: String(state.iteration),
    ...archMetadata(options),
  });
  return file;
}
