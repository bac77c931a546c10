// Config files: read a YAML/JSON config into a raw mapping, write the resolved config to the run
// directory. Port of OmegaConf.load / write_config in dinov2/utils/config.py.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ConfigError, firstLine, fmtValue } from "./errors.js";
import type { ResolvedConfig } from "./resolve.js";

/** Reads a YAML (.yaml/.yml and anything else) or JSON (.json) config file into a raw mapping. */
export function loadConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError("", `cannot read config file "${path}": ${firstLine(e)}`);
  }
  let value: unknown;
  try {
    value = extname(path).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError("", `cannot parse config file "${path}": ${firstLine(e)}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError("", `config file "${path}" must hold a mapping; got ${fmtValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Writes the resolved config (not the derived values) to `<dir>/<fileName>`; returns the path. */
export function saveResolvedConfig(
  resolved: ResolvedConfig,
  dir: string,
  fileName = "config.json",
): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  const isYaml = [".yaml", ".yml"].includes(extname(fileName).toLowerCase());
  writeFileSync(
    path,
    isYaml ? stringifyYaml(resolved.cfg) : `${JSON.stringify(resolved.cfg, null, 2)}\n`,
  );
  return path;
}
