// The official-trainer YAML: our keys are dropped when they hold the official behaviour and
// refused when the official code could not honour them; the official code's own config loading
// (OmegaConf merge over ssl_default_config.yaml in struct mode, so an unknown key fails, then
// apply_scaling_rules_to_cfg) reads the file back to the same values. That check runs the
// reference package in ../shared/reference with Debian's python3-omegaconf and python3-torch,
// and is skipped where they are absent.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pythonWith } from "../../test/helpers/torch-python.js";
import { officialConfigYaml } from "./official-export.js";
import { resolveConfig } from "./resolve.js";

const REFERENCE = resolve(fileURLToPath(new URL("../..", import.meta.url)), "../shared/reference");
const PYTHON = pythonWith(["omegaconf", "torch"]);
const canCheck = PYTHON !== undefined && existsSync(join(REFERENCE, "dinov2", "configs"));

const BASE = ["train.dataset_path=ImageNet:split=TRAIN:root=/data:extra=/data"];

const LOAD = `
import json, sys
sys.path.insert(0, sys.argv[1])
from omegaconf import OmegaConf
from dinov2.configs import dinov2_default_config
from dinov2.utils.config import apply_scaling_rules_to_cfg
default = OmegaConf.create(dinov2_default_config)
OmegaConf.set_struct(default, True)  # an unknown key is an error, not silently added
cfg = OmegaConf.merge(default, OmegaConf.load(sys.argv[2]))
cfg = apply_scaling_rules_to_cfg(cfg)
print(json.dumps(OmegaConf.to_container(cfg)))
`;

describe("official trainer config", () => {
  it("refuses what the official trainer cannot honour, naming the key", () => {
    const cases: [string[], RegExp][] = [
      [["student.embed_dim=96", "student.num_heads=3"], /student\.embed_dim=96 cannot be written/],
      [["crops.blur_mode=paper"], /crops\.blur_mode="paper" cannot be written/],
      [["distillation.teacher_weights=t.pth"], /distillation\.teacher_weights.*never released/],
      [["student.arch=vit_tiny"], /student\.arch=vit_tiny is ours/],
    ];
    for (const [sets, msg] of cases)
      expect(() =>
        officialConfigYaml(resolveConfig({ preset: "vits14", sets: [...BASE, ...sets] }).cfg),
      ).toThrow(msg);
  });

  it.skipIf(!canCheck)("the official code loads it back to the same values", () => {
    for (const [preset, sets] of [
      ["vitl14", []],
      ["vits14", BASE],
    ] as const) {
      const { cfg, derived } = resolveConfig({ preset, sets: [...sets] });
      if (preset === "vits14")
        expect(() =>
          officialConfigYaml(resolveConfig({ preset, sets: ["train.dataset_path=synthetic"] }).cfg),
        ).toThrow(/train\.dataset_path "synthetic" is ours/);
      const dir = mkdtempSync(join(tmpdir(), "dinov2-official-cfg-"));
      const file = join(dir, "config.yaml");
      writeFileSync(file, officialConfigYaml(cfg));
      const r = spawnSync(PYTHON!, ["-c", LOAD, REFERENCE, file], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const official = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
      const ours = structuredClone(cfg) as unknown as Record<string, Record<string, unknown>>;
      for (const [section, values] of Object.entries(official)) {
        for (const [key, value] of Object.entries(values)) {
          if (section === "optim" && key === "lr") {
            expect(value, preset).toBeCloseTo(derived.lr, 12);
            continue;
          }
          expect(value, `${preset}: ${section}.${key}`).toEqual(ours[section]![key]);
        }
      }
    }
  });
});
