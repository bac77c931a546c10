// Config resolution: schema defaults <- preset <- file <- --set overrides, validated once, then the
// derived values (scaled lr, iteration counts, backbone sizes) in a separate frozen record.
// Port of dinov2/utils/config.py (get_cfg_from_args, apply_scaling_rules_to_cfg). No I/O here:
// config-file.ts reads and writes files, so this module also runs in a browser.
import { parse as parseYaml } from "yaml";
import { ARCH_DIMS, type ArchName } from "./archs.js";
import { ConfigError, closest, configErrorFromIssues, firstLine, fmtValue } from "./errors.js";
import { PRESET_NAMES, PRESETS } from "./presets.js";
import { configKeysAt, type DeepReadonly, TrainConfig } from "./schema.js";

export interface ResolveOptions {
  /** A name from PRESETS, e.g. "vitl14" or "vits14-demo". */
  readonly preset?: string | undefined;
  /** Parsed contents of a config file (see loadConfigFile). */
  readonly file?: unknown;
  /** Dotlist overrides "a.b=value"; values are YAML scalars (or flow lists/maps). */
  readonly sets?: readonly string[] | undefined;
  /** Number of data-parallel workers (official `distributed.get_global_size()`); default 1. */
  readonly worldSize?: number | undefined;
}

export interface BackboneDims {
  readonly arch: ArchName;
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly ffn: "mlp" | "swiglu";
  readonly patchSize: number;
  /** Position-embedding size: official build_model uses crops.global_crops_size. */
  readonly imgSize: number;
  readonly numRegisterTokens: number;
}

/** Values computed from the config; never written back into it. */
export interface Derived {
  readonly worldSize: number;
  readonly globalBatchSize: number;
  /** Peak learning rate: optim.base_lr scaled by optim.scaling_rule. */
  readonly lr: number;
  readonly itersPerEpoch: number;
  readonly totalIters: number;
  readonly warmupIters: number;
  readonly freezeLastLayerIters: number;
  readonly teacherTempWarmupIters: number;
  readonly patchesPerGlobalCrop: number;
  readonly patchesPerLocalCrop: number;
  readonly backbone: BackboneDims;
}

export interface ResolvedConfig {
  readonly cfg: DeepReadonly<TrainConfig>;
  readonly derived: Derived;
}

/** Merges defaults <- preset <- file <- sets, validates, derives, and freezes the result. */
export function resolveConfig(opts: ResolveOptions = {}): ResolvedConfig {
  let merged: unknown = {};
  if (opts.preset !== undefined) merged = deepMerge(merged, presetByName(opts.preset));
  if (opts.file !== undefined) merged = deepMerge(merged, opts.file);
  for (const item of opts.sets ?? []) merged = applySet(merged, item);
  const cfg = parseConfig(merged);
  return deepFreeze({ cfg, derived: deriveValues(cfg, opts.worldSize ?? 1) });
}

/** Validates a merged raw config against the schema; throws ConfigError naming the first bad path. */
export function parseConfig(raw: unknown): TrainConfig {
  const result = TrainConfig.safeParse(raw);
  if (result.success) return result.data;
  throw configErrorFromIssues(result.error.issues, raw, (p) => configKeysAt(p) ?? []);
}

/** Applies one "a.b=value" override to a raw config (a copy is returned). */
export function applySet(raw: unknown, item: string): unknown {
  const source = `--set ${item}`;
  const eq = item.indexOf("=");
  if (eq <= 0) {
    throw new ConfigError("", `malformed override ${fmtValue(item)}; expected key.path=value`, {
      source,
    });
  }
  const path = item.slice(0, eq).trim().split(".");
  checkPath(path, source);
  const text = item.slice(eq + 1);
  let value: unknown;
  try {
    value = text.trim() === "" ? "" : parseYaml(text);
  } catch (e) {
    throw new ConfigError(
      path.join("."),
      `cannot parse the value ${fmtValue(text)}: ${firstLine(e)}`,
      { source },
    );
  }
  return deepMerge(
    raw,
    path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), value),
  );
}

/** Computes the derived values, checking the cross-field rules the schema cannot see. */
export function deriveValues(cfg: DeepReadonly<TrainConfig>, worldSize: number): Derived {
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new ConfigError("", `invalid world size; got ${worldSize}, expected an integer >= 1`);
  }
  const { optim, train, teacher, crops, ibot } = cfg;
  const backbone = backboneDims(cfg);
  checkRange("crops.global_crops_scale", crops.global_crops_scale);
  checkRange("crops.local_crops_scale", crops.local_crops_scale);
  checkRange("ibot.mask_ratio_min_max", ibot.mask_ratio_min_max);
  const gridGlobal = gridSide(
    "crops.global_crops_size",
    crops.global_crops_size,
    backbone.patchSize,
  );
  const gridLocal = gridSide("crops.local_crops_size", crops.local_crops_size, backbone.patchSize);
  if (optim.warmup_epochs > optim.epochs) {
    throw new ConfigError(
      "optim.warmup_epochs",
      `warmup is longer than training; got optim.warmup_epochs ${optim.warmup_epochs}, expected <= optim.epochs ${optim.epochs}`,
    );
  }
  const itersPerEpoch = train.OFFICIAL_EPOCH_LENGTH;
  const globalBatchSize = train.batch_size_per_gpu * worldSize;
  return {
    worldSize,
    globalBatchSize,
    lr: scaledLr(optim.scaling_rule, optim.base_lr, globalBatchSize),
    itersPerEpoch,
    totalIters: optim.epochs * itersPerEpoch,
    warmupIters: optim.warmup_epochs * itersPerEpoch,
    freezeLastLayerIters: optim.freeze_last_layer_epochs * itersPerEpoch,
    teacherTempWarmupIters: teacher.warmup_teacher_temp_epochs * itersPerEpoch,
    patchesPerGlobalCrop: gridGlobal * gridGlobal,
    patchesPerLocalCrop: gridLocal * gridLocal,
    backbone,
  };
}

function presetByName(name: string): unknown {
  if (!Object.hasOwn(PRESETS, name)) {
    const near = closest(name, PRESET_NAMES);
    throw new ConfigError(
      "",
      `unknown preset "${name}"; expected one of ${PRESET_NAMES.join(", ")}`,
      {
        ...(near ? { hint: `did you mean "${near}"?` } : {}),
      },
    );
  }
  return PRESETS[name as keyof typeof PRESETS];
}

function checkPath(path: readonly string[], source: string): void {
  for (let i = 0; i < path.length; i++) {
    const parent = path.slice(0, i);
    const keys = configKeysAt(parent);
    const full = path.slice(0, i + 1).join(".");
    if (keys === undefined) {
      throw new ConfigError(
        full,
        `cannot set "${full}": "${parent.join(".")}" is a value, not a section`,
        {
          source,
        },
      );
    }
    if (!keys.includes(path[i]!)) {
      const near = closest(path[i]!, keys);
      const where = parent.length === 0 ? "the top level" : `"${parent.join(".")}"`;
      throw new ConfigError(
        full,
        `unknown key "${full}"; expected a key of ${where}: ${keys.join(", ")}`,
        {
          source,
          ...(near ? { hint: `did you mean "${[...parent, near].join(".")}"?` } : {}),
        },
      );
    }
  }
}

function scaledLr(
  rule: TrainConfig["optim"]["scaling_rule"],
  baseLr: number,
  globalBatch: number,
): number {
  switch (rule) {
    case "sqrt_wrt_1024":
      return baseLr * Math.sqrt(globalBatch / 1024.0);
    default: {
      const unknown: never = rule;
      throw new ConfigError("optim.scaling_rule", `unknown scaling rule ${fmtValue(unknown)}`);
    }
  }
}

function backboneDims(cfg: DeepReadonly<TrainConfig>): BackboneDims {
  const s = cfg.student;
  const base = ARCH_DIMS[s.arch];
  const embedDim = s.embed_dim ?? base.embedDim;
  const numHeads = s.num_heads ?? base.numHeads;
  if (embedDim % numHeads !== 0) {
    throw new ConfigError(
      "student.num_heads",
      `student.num_heads does not divide the embed dim; got ${embedDim} / ${numHeads} heads`,
      { hint: "set student.embed_dim and student.num_heads so that the head dim is an integer" },
    );
  }
  return {
    arch: s.arch,
    embedDim,
    depth: s.depth ?? base.depth,
    numHeads,
    mlpRatio: 4,
    ffn: ffnKind(s.ffn_layer),
    patchSize: s.patch_size,
    imgSize: cfg.crops.global_crops_size,
    numRegisterTokens: s.num_register_tokens,
  };
}

function ffnKind(layer: TrainConfig["student"]["ffn_layer"]): BackboneDims["ffn"] {
  switch (layer) {
    case "mlp":
      return "mlp";
    case "swiglu":
    case "swiglufused": // both build SwiGLUFFNFused in the official code
      return "swiglu";
    case "identity":
      // Official blocks then add LayerScale(norm2(x)) in place of the FFN; not built here.
      throw new ConfigError(
        "student.ffn_layer",
        'student.ffn_layer "identity" (blocks without an FFN) is not supported',
        { hint: 'use "mlp", "swiglu" or "swiglufused"' },
      );
  }
}

function gridSide(path: string, size: number, patch: number): number {
  if (size % patch !== 0) {
    const lo = size - (size % patch);
    throw new ConfigError(
      path,
      `${path} is not a multiple of student.patch_size; got ${size}, patch ${patch}`,
      {
        hint: `use ${lo > 0 ? `${lo} or ` : ""}${lo + patch}`,
      },
    );
  }
  return size / patch;
}

function checkRange(path: string, [lo, hi]: readonly [number, number]): void {
  if (!(lo <= hi))
    throw new ConfigError(
      path,
      `invalid range at "${path}"; got [${lo}, ${hi}], expected min <= max`,
    );
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
