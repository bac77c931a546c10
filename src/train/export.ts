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
