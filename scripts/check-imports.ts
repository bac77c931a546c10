// The layer rule of docs/style.md, enforced: which src/ folders each folder may import, and which
// may import packages. Tests (*.test.ts, *.cases.ts) are exempt. Exits 1 listing every violation.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

interface LayerRule {
  /** src/ folders this folder may import (besides itself). */
  readonly may: readonly string[];
  /** Packages: "any", or "none" (no packages and no node: builtins either). */
  readonly packages: "any" | "none";
  /** When set, imports of core/ must be one of these files. */
  readonly coreFiles?: readonly string[];
}

const EVERYTHING_BUT_CLI = [
  "web",
  "core",
  "onnx",
  "runtime",
  "nn",
  "models",
  "io",
  "losses",
  "data",
  "train",
  "eval",
  "curate",
  "inference",
  "config",
];

const RULES: Readonly<Record<string, LayerRule>> = {
  core: { may: [], packages: "none" },
  onnx: { may: ["core"], packages: "none" },
  runtime: { may: ["core", "onnx"], packages: "any" },
  nn: { may: ["core"], packages: "any" },
  models: { may: ["core", "nn", "io"], packages: "any" },
  io: { may: ["core"], packages: "any" },
  losses: { may: ["core", "nn"], packages: "any" },
  data: {
    may: ["core"],
    packages: "any",
    coreFiles: ["dtype.js", "host-tensor.js", "errors.js", "resample.js", "xoshiro.js"],
  },
  train: {
    may: ["core", "nn", "models", "losses", "runtime", "data", "config", "io", "onnx"],
    packages: "any",
  },
  // eval trains its heads (linear, segmentation, depth) with train/optimizer.ts.
  eval: {
    may: ["core", "runtime", "models", "nn", "data", "io", "onnx", "train"],
    packages: "any",
  },
  // Embedding and export for released backbones: eval's neighbours, plus config for ConfigError.
  inference: {
    may: ["core", "runtime", "models", "nn", "data", "io", "onnx", "config"],
    packages: "any",
  },
  curate: { may: ["core", "runtime", "models", "eval", "data", "io"], packages: "any" },
  config: { may: [], packages: "any" },
  // The `dinov2 serve` page, bundled for browsers (scripts/build-page.ts): only pure-TS files
  // below it; the bundler fails on any Node import, and tsconfig.web.json has no Node types.
  web: {
    may: ["core", "data", "config", "eval", "inference"],
    packages: "any",
    coreFiles: ["errors.js", "resample.js"],
  },
  cli: { may: EVERYTHING_BUT_CLI, packages: "any" },
  // src/index.ts, the package entry: the public barrels.
  ".": { may: EVERYTHING_BUT_CLI, packages: "any" },
};

const ONLY_RUNTIME = /^onnxruntime-/;
/** The browser page runs the model in onnxruntime-web; src/runtime is onnxruntime-node's. */
const WEB_RUNTIME: Readonly<Record<string, string>> = { web: "onnxruntime-web" };

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const violations: string[] = [];
let files = 0;

for (const file of walk(src)) {
  if (/\.(test|cases)\.ts$/.test(file)) continue;
  files++;
  const layer = layerOf(file);
  const rule = RULES[layer];
  const where = relative(root, file);
  if (!rule) {
    violations.push(
      `${where}: folder src/${layer} has no layer rule; add it to scripts/check-imports.ts`,
    );
    continue;
  }
  for (const spec of importsOf(readFileSync(file, "utf8"))) {
    const why = check(file, layer, rule, spec);
    if (why) violations.push(`${where}: imports "${spec}": ${why}`);
  }
}

if (violations.length > 0) {
  process.stdout.write(
    `${violations.join("\n")}\n\ncheck-imports: ${violations.length} violations in ${files} files\n`,
  );
  process.exit(1);
}
process.stdout.write(`check-imports: ok (${files} files)\n`);

function check(file: string, layer: string, rule: LayerRule, spec: string): string | undefined {
  if (!spec.startsWith(".")) {
    const web = WEB_RUNTIME[layer];
    const isWebRuntime = web !== undefined && (spec === web || spec.startsWith(`${web}/`));
    if (ONLY_RUNTIME.test(spec) && layer !== "runtime" && !isWebRuntime)
      return `only src/runtime imports onnxruntime (and src/web ${WEB_RUNTIME.web})`;
    if (rule.packages === "none") return `src/${layer} imports no packages and no node: modules`;
    return undefined;
  }
  const target = resolve(dirname(file), spec);
  if (!target.startsWith(src + sep)) return "reaches outside src/";
  const to = layerOf(target);
  if (to === layer) return undefined;
  if (to === "cli") return "nothing imports src/cli";
  if (!rule.may.includes(to)) {
    const allowed = rule.may.length ? rule.may.join(", ") : "nothing outside itself";
    return `src/${layer} may import ${allowed}; not src/${to}`;
  }
  if (to === "core" && rule.coreFiles) {
    const name = relative(join(src, "core"), target);
    if (!rule.coreFiles.includes(name))
      return `src/${layer} may import only core/{${rule.coreFiles.join(",")}}`;
  }
  return undefined;
}

/** "core" for src/core/ops/x.ts; "." for files directly in src/. */
function layerOf(file: string): string {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0]! : ".";
}

/** Static imports, re-exports, side-effect imports and dynamic import("...") with a literal. */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]!);
  return specs;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}
