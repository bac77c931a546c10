// Converting any supported checkpoint to another format: official-key safetensors (options in
// `__metadata__`), a Hugging Face folder (config.json + model.safetensors, sharded past a size
// with model.safetensors.index.json, as save_pretrained does), or the official `.pth` layout.
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { HostTensor } from "../core/host-tensor.js";
import { archMetadata } from "./arch-metadata.js";
import { CheckpointError } from "./checkpoint-error.js";
import type { CheckpointOptions } from "./checkpoint-options.js";
import { optionsToHfConfig } from "./hf-config.js";
import { officialToHf } from "./hf-layout.js";
import type { CheckpointLayout } from "./layouts.js";
import { type LoadCheckpointOptions, loadCheckpoint } from "./load-checkpoint.js";
import { writePthFile } from "./pth-writer.js";
import { writeSafetensorsFile } from "./safetensors.js";

export type ConvertFormat = "safetensors" | "hf" | "pth";
export const CONVERT_FORMATS: readonly ConvertFormat[] = ["safetensors", "hf", "pth"];

/** save_pretrained's default shard size (5 GB). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface ConvertOptions extends LoadCheckpointOptions {
  /** Default: from the output's extension (.safetensors, .pth/.pt/.bin), else an HF folder. */
  readonly format?: ConvertFormat;
  /** HF folders: the most bytes of tensors per shard file. */
  readonly maxShardBytes?: number;
}

export interface ConvertResult {
  readonly inputLayout: CheckpointLayout;
  readonly format: ConvertFormat;
  readonly files: readonly string[];
  readonly tensors: number;
  readonly bytes: number;
  readonly options: CheckpointOptions;
}

/** The format an output path asks for by its extension. */
export function formatOfPath(output: string): ConvertFormat {
  const ext = extname(output).toLowerCase();
  if (ext === ".safetensors") return "safetensors";
  if (ext === ".pth" || ext === ".pt" || ext === ".bin") return "pth";
  return "hf";
}

/** Reads `input` (any layout loadCheckpoint reads) and writes its backbone to `output`. */
export function convertCheckpoint(
  input: string,
  output: string,
  opts: ConvertOptions = {},
): ConvertResult {
  const format = opts.format ?? formatOfPath(output);
  const loaded = loadCheckpoint(input, opts);
  // As loadBackbone does: every DINOv2 model has 64 dims per head.
  const dim = loaded.options.embedDim ?? 0;
  const ckpt =
    loaded.options.numHeads === undefined && dim % 64 === 0 && dim > 0
      ? { ...loaded, options: { ...loaded.options, numHeads: dim / 64 } }
      : loaded;
  if (ckpt.options.numHeads === undefined && format !== "pth") {
    throw new CheckpointError(
      input,
      `cannot tell the number of attention heads of a ${dim}-wide model`,
      {
        hint: "pass --num-heads (the weights do not show it, and there is no config saying it)",
      },
    );
  }
  const sd = ckpt.stateDict;
  let files: string[] = [output];
  if (format === "safetensors") {
    writeSafetensorsFile(output, sd, { format: "pt", ...archMetadata(ckpt.options) });
  } else if (format === "pth") {
    writePthFile(output, inOfficialOrder(sd));
  } else {
    files = writeHfFolder(output, sd, ckpt.options, opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
  }
  return {
    inputLayout: ckpt.layout,
    format,
    files,
    tensors: sd.size,
    bytes: files.reduce((n, f) => n + statSync(f).size, 0),
    options: ckpt.options,
  };
}

/** config.json and the HF-keyed weights: one model.safetensors, or shards of at most
 * `maxShardBytes` (a bigger tensor gets a shard of its own) with an index, keys in order. */
export function writeHfFolder(
  dir: string,
  official: ReadonlyMap<string, HostTensor>,
  options: CheckpointOptions,
  maxShardBytes = DEFAULT_MAX_SHARD_BYTES,
): string[] {
  const config = optionsToHfConfig(options);
  const hf = officialToHf(official);
  const shards: Map<string, HostTensor>[] = [];
  let size = Number.POSITIVE_INFINITY;
  for (const key of [...hf.keys()].sort()) {
    const t = hf.get(key)!;
    if (size + t.data.byteLength > maxShardBytes || shards.length === 0) {
      shards.push(new Map());
      size = 0;
    }
    shards[shards.length - 1]!.set(key, t);
    size += t.data.byteLength;
  }
  mkdirSync(dir, { recursive: true });
  for (const stale of ["model.safetensors", "model.safetensors.index.json"]) {
    rmSync(join(dir, stale), { force: true });
  }
  const files = [join(dir, "config.json")];
  writeFileSync(files[0]!, `${JSON.stringify(config, null, 2)}\n`);
  const n = shards.length;
  const names = shards.map((_, i) =>
    n === 1
      ? "model.safetensors"
      : `model-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`,
  );
  shards.forEach((shard, i) => {
    files.push(join(dir, names[i]!));
    writeSafetensorsFile(files[files.length - 1]!, shard, { format: "pt" });
  });
  if (n > 1) {
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((shard, i) => {
      for (const [key, t] of shard) {
        weightMap[key] = names[i]!;
        total += t.data.byteLength;
      }
    });
    const index = { metadata: { total_size: total }, weight_map: weightMap };
    files.push(join(dir, "model.safetensors.index.json"));
    writeFileSync(files[files.length - 1]!, `${JSON.stringify(index, null, 2)}\n`);
  }
  return files;
}

const TOP_ORDER = [
  "cls_token",
  "pos_embed",
  "register_tokens",
  "mask_token",
  "patch_embed.",
  "blocks.",
  "norm.",
];
const BLOCK_ORDER = [
  "norm1.",
  "attn.qkv.",
  "attn.proj.",
  "ls1.",
  "norm2.",
  "mlp.fc1.",
  "mlp.fc2.",
  "mlp.w12.",
  "mlp.w3.",
  "ls2.",
];

/** Keys in the order the official model's state_dict() lists them (module registration order,
 * weight before bias), so a .pth comes out the same whatever the source's order was. */
function inOfficialOrder(sd: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const rank = (key: string): number[] => {
    const top = TOP_ORDER.findIndex((p) => key.startsWith(p));
    const m = /^blocks\.(\d+)\.(.*)$/.exec(key);
    const inBlock = m ? BLOCK_ORDER.findIndex((p) => m[2]!.startsWith(p)) : 0;
    return [
      top < 0 ? TOP_ORDER.length : top,
      m ? Number(m[1]) : 0,
      inBlock,
      key.endsWith(".bias") ? 1 : 0,
    ];
  };
  const cmp = (a: string, b: string): number => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  return new Map([...sd.keys()].sort(cmp).map((k) => [k, sd.get(k)!]));
}
