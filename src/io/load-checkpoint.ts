// Loading a backbone checkpoint from any supported file or HF directory, and checking a state
// dict against the shapes a model expects.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { HostTensor } from "../core/host-tensor.js";
import { fmtShape, shapesEqual } from "../core/shape.js";
import { ARCH_METADATA_KEY, readArchMetadata } from "./arch-metadata.js";
import { CheckpointError } from "./checkpoint-error.js";
import { type CheckpointOptions, conventionalInterpolation } from "./checkpoint-options.js";
import { hfConfigToOptions } from "./hf-config.js";
import { inferOptionsFromStateDict } from "./infer-options.js";
import { backboneKeys, type CheckpointLayout, toOfficialStateDict } from "./layouts.js";
import { type LazyStateDict, type LazyTensor, loadTensors, withLazy } from "./lazy-tensor.js";
import { openPthFile } from "./pth.js";
import { openSafetensorsFile, readSafetensorsMetadata } from "./safetensors.js";

export interface LoadedCheckpoint {
  /** The path that was read (the weights file inside a directory). */
  readonly file: string;
  readonly layout: CheckpointLayout;
  /** The backbone under official keys. */
  readonly stateDict: ReadonlyMap<string, HostTensor>;
  /** From config.json where there is one, else inferred from the weights' shapes. */
  readonly options: CheckpointOptions;
}

export interface LoadCheckpointOptions {
  readonly branch?: "teacher" | "student";
  /** Heads are not in the weights; needed for widths other than the released variants'. */
  readonly numHeads?: number;
}

/** Cross-checked between config.json and the weights: [option, HF config field]. */
const CHECKED: readonly (readonly [keyof CheckpointOptions, string])[] = [
  ["embedDim", "hidden_size"],
  ["depth", "num_hidden_layers"],
  ["patchSize", "patch_size"],
  ["inChans", "num_channels"],
  ["numRegisterTokens", "num_register_tokens"],
  ["ffnLayer", "use_swiglu_ffn"],
];

/** Reads a .safetensors file, a torch.save file (.pth/.pt/.bin; sniffed, not by extension) or an
 * HF model directory (config.json + model.safetensors, sharded model.safetensors.index.json, or
 * pytorch_model.bin) and returns the backbone under official keys. */
export function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const isDir = statSync(path, { throwIfNoEntry: false })?.isDirectory();
  if (isDir === undefined) throw new CheckpointError(path, "no such file or directory");
  const file = isDir ? hfWeightsFile(path) : path;
  // Only the tensors the layout keeps are read (a training checkpoint's other branch, heads and
  // optimizer state stay on disk).
  const raw = withLazy(openWeights(file), (lazy) =>
    loadTensors(
      lazy.tensors,
      backboneKeys(lazy.tensors.keys(), { source: file, ...pick(opts, "branch") }),
    ),
  );
  const { layout, stateDict } = toOfficialStateDict(raw, { source: file, ...pick(opts, "branch") });
  const fromWeights = inferOptionsFromStateDict(stateDict, {
    source: file,
    ...pick(opts, "numHeads"),
  });
  // An HF model interpolates the HF way even when its config.json is missing.
  const registers = fromWeights.numRegisterTokens ?? 0;
  const inferred =
    layout === "hf"
      ? { ...fromWeights, ...conventionalInterpolation("hf", registers) }
      : fromWeights;
  const configPath = join(isDir ? path : dirname(path), "config.json");
  if (layout !== "hf" || !existsSync(configPath)) {
    const recorded = recordedArch(file);
    if (recorded === undefined) return { file, layout, stateDict, options: inferred };
    crossCheck(recorded, inferred, `${file} (__metadata__ ${ARCH_METADATA_KEY})`, file, false);
    return {
      file,
      layout,
      stateDict,
      options: { ...inferred, ...recorded, ...pick(opts, "numHeads") },
    };
  }
  const config = hfConfigToOptions(readJson(configPath), configPath);
  crossCheck(config, inferred, configPath, file, true);
  return {
    file,
    layout,
    stateDict,
    options: { ...inferred, ...config, ...pick(opts, "numHeads") },
  };
}

/** Refuses a recorded architecture that contradicts the weights' shapes. */
function crossCheck(
  recorded: CheckpointOptions,
  inferred: CheckpointOptions,
  source: string,
  file: string,
  hfFieldNames: boolean,
): void {
  for (const [option, field] of CHECKED) {
    if (recorded[option] !== undefined && recorded[option] !== inferred[option]) {
      throw new CheckpointError(
        source,
        `says ${option} = ${recorded[option]}, but the weights in ${file} have ${inferred[option]}`,
        { key: hfFieldNames ? field : option },
      );
    }
  }
}

/** The architecture recorded in a safetensors file's __metadata__ (files this project wrote). */
function recordedArch(file: string): CheckpointOptions | undefined {
  if (file.endsWith(".index.json") || readMagic(file) === "PK") return undefined;
  return readArchMetadata(readSafetensorsMetadata(file), file);
}

/** Refuses a state dict that does not fit: the first key (in `expected` order) that is missing
 * or has another shape, then the first unexpected key. */
export function validateStateDict(
  expected: ReadonlyMap<string, readonly number[]>,
  got: ReadonlyMap<string, HostTensor>,
  file = "<state dict>",
): void {
  for (const [key, shape] of expected) {
    const t = got.get(key);
    if (t === undefined) {
      throw new CheckpointError(file, `missing; expected shape ${fmtShape(shape)}`, { key });
    }
    if (!shapesEqual(t.shape, shape)) {
      throw new CheckpointError(
        file,
        `shape mismatch; got ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`,
        {
          key,
          hint: "do the model options (embedDim, depth, patchSize, imgSize, registers, ffnLayer) match the checkpoint?",
        },
      );
    }
  }
  for (const [key, t] of got) {
    if (!expected.has(key)) {
      throw new CheckpointError(file, `unexpected key with shape ${fmtShape(t.shape)}`, { key });
    }
  }
}

/** Opens a weights file without reading its tensors: a torch.save zip (sniffed, whatever the
 * extension), a sharded index, or safetensors. */
export function openWeights(file: string): LazyStateDict {
  if (file.endsWith(".index.json")) return openShards(file);
  return readMagic(file) === "PK" ? openPthFile(file) : openSafetensorsFile(file);
}

function readMagic(file: string): string {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(2);
    return buf.toString("latin1", 0, readSync(fd, buf, 0, 2, 0));
  } finally {
    closeSync(fd);
  }
}

function hfWeightsFile(dir: string): string {
  const names = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"];
  const found = names.map((n) => join(dir, n)).find((p) => existsSync(p));
  if (found === undefined) {
    throw new CheckpointError(dir, `directory holds none of ${names.join(", ")}`);
  }
  return found;
}

/** A sharded HF checkpoint: `weight_map` names the shard of every tensor; each shard must hold
 * exactly the tensors the map gives it. */
function openShards(indexFile: string): LazyStateDict {
  const index = readJson(indexFile) as { weight_map?: unknown };
  const map = index.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new CheckpointError(indexFile, "has no weight_map object", { key: "weight_map" });
  }
  const byShard = new Map<string, string[]>();
  for (const [key, shard] of Object.entries(map)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw new CheckpointError(indexFile, "weight_map values must be file names in its folder", {
        key,
      });
    }
    byShard.set(shard, [...(byShard.get(shard) ?? []), key]);
  }
  const opened: LazyStateDict[] = [];
  const close = () => {
    for (const o of opened) o.close();
  };
  try {
    const tensors = new Map<string, LazyTensor>();
    for (const [shard, keys] of byShard) {
      const file = join(dirname(indexFile), shard);
      if (!existsSync(file)) {
        throw new CheckpointError(indexFile, `names shard ${shard}, which is not there`, {
          key: keys[0]!,
        });
      }
      const part = openWeights(file);
      opened.push(part);
      for (const key of keys) {
        const t = part.tensors.get(key);
        if (t === undefined) {
          throw new CheckpointError(file, `missing; ${indexFile} says this shard holds it`, {
            key,
          });
        }
        tensors.set(key, t);
      }
      for (const key of part.tensors.keys()) {
        const named = Object.hasOwn(map, key) ? (map as Record<string, unknown>)[key] : undefined;
        if (named !== shard) {
          throw new CheckpointError(file, `is not in ${indexFile}'s weight_map for this shard`, {
            key,
          });
        }
      }
    }
    return { tensors, close };
  } catch (err) {
    close();
    throw err;
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new CheckpointError(path, `is not valid JSON (${(err as Error).message})`);
  }
}

/** `{key: value}` when the value is defined, `{}` otherwise (exactOptionalPropertyTypes). */
function pick<T extends object, K extends keyof T>(obj: T, key: K): Partial<Pick<T, K>> {
  return obj[key] === undefined ? {} : ({ [key]: obj[key] } as Partial<Pick<T, K>>);
}
