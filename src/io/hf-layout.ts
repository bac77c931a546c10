// Official DINOv2 backbone keys <-> Hugging Face Dinov2Model / Dinov2WithRegistersModel keys.
// Table from transformers' convert_dinov2_to_hf.py (see docs: dinov2-reference.md section 4.3).
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import { fmtShape } from "../core/shape.js";
import { CheckpointError } from "./checkpoint-error.js";

/** [official, HF] key templates; `{i}` is a block index, a trailing "." takes weight/bias. */
const RENAMES: readonly (readonly [string, string])[] = [
  ["cls_token", "embeddings.cls_token"],
  ["mask_token", "embeddings.mask_token"],
  ["pos_embed", "embeddings.position_embeddings"],
  ["register_tokens", "embeddings.register_tokens"],
  ["patch_embed.proj.", "embeddings.patch_embeddings.projection."],
  ["blocks.{i}.norm1.", "encoder.layer.{i}.norm1."],
  ["blocks.{i}.norm2.", "encoder.layer.{i}.norm2."],
  ["blocks.{i}.attn.proj.", "encoder.layer.{i}.attention.output.dense."],
  ["blocks.{i}.ls1.gamma", "encoder.layer.{i}.layer_scale1.lambda1"],
  ["blocks.{i}.ls2.gamma", "encoder.layer.{i}.layer_scale2.lambda1"],
  ["blocks.{i}.mlp.fc1.", "encoder.layer.{i}.mlp.fc1."],
  ["blocks.{i}.mlp.fc2.", "encoder.layer.{i}.mlp.fc2."],
  ["blocks.{i}.mlp.w12.", "encoder.layer.{i}.mlp.weights_in."],
  ["blocks.{i}.mlp.w3.", "encoder.layer.{i}.mlp.weights_out."],
  ["norm.", "layernorm."],
];

/** The fused qkv projection; HF keeps its rows [0:D], [D:2D], [2D:3D] as three Linears. */
const QKV_OFFICIAL = /^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$/;
const QKV_HF = /^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$/;
const QKV_PARTS = ["query", "key", "value"] as const;

/** Backbone prefixes of HF task models (Dinov2ForImageClassification and the like). */
const HF_PREFIXES = ["dinov2.", "dinov2_with_registers."] as const;

/** HF keys -> official keys; q/k/v are concatenated into qkv. A task model's backbone prefix is
 * stripped and its head (`classifier.*`) ignored. Unknown keys are refused by name. */
export function hfToOfficial(
  hf: ReadonlyMap<string, HostTensor>,
  source = "<hf>",
): Map<string, HostTensor> {
  const prefix = HF_PREFIXES.find((p) => [...hf.keys()].some((k) => k.startsWith(p)));
  const out = new Map<string, HostTensor>();
  const qkv = new Map<string, Partial<Record<(typeof QKV_PARTS)[number], HostTensor>>>();
  for (const [fullKey, t] of hf) {
    if (prefix !== undefined && !fullKey.startsWith(prefix)) continue; // the task head
    const key = prefix === undefined ? fullKey : fullKey.slice(prefix.length);
    const m = QKV_HF.exec(key);
    if (m) {
      const target = `blocks.${m[1]}.attn.qkv.${m[3]}`;
      const parts = qkv.get(target) ?? {};
      parts[m[2] as (typeof QKV_PARTS)[number]] = t;
      qkv.set(target, parts);
      continue;
    }
    const renamed = renameKey(key, 1, 0);
    if (renamed === undefined) {
      throw new CheckpointError(source, "not a Dinov2Model backbone key", {
        key: fullKey,
        hint: "expected embeddings.*, encoder.layer.N.* or layernorm.*",
      });
    }
    out.set(renamed, t);
  }
  for (const [target, parts] of qkv) {
    const [q, k, v] = QKV_PARTS.map((p) => parts[p]);
    if (!q || !k || !v) {
      const missing = QKV_PARTS.filter((p) => !parts[p]).join(", ");
      throw new CheckpointError(source, `attention ${missing} missing; cannot build qkv`, {
        key: target,
      });
    }
    out.set(target, concatRows([q, k, v], target, source));
  }
  return out;
}

/** Official keys -> HF keys (qkv split into query/key/value), optionally under a task prefix. */
export function officialToHf(
  official: ReadonlyMap<string, HostTensor>,
  opts: { readonly prefix?: string; readonly source?: string } = {},
): Map<string, HostTensor> {
  const source = opts.source ?? "<official>";
  const prefix = opts.prefix ?? "";
  const out = new Map<string, HostTensor>();
  for (const [key, t] of official) {
    const m = QKV_OFFICIAL.exec(key);
    if (m) {
      const parts = splitRows(t, 3, key, source);
      QKV_PARTS.forEach((p, j) => {
        out.set(`${prefix}encoder.layer.${m[1]}.attention.attention.${p}.${m[2]}`, parts[j]!);
      });
      continue;
    }
    const renamed = renameKey(key, 0, 1);
    if (renamed === undefined) {
      throw new CheckpointError(source, "not an official backbone key; it has no HF counterpart", {
        key,
      });
    }
    out.set(prefix + renamed, t);
  }
  return out;
}

/** Renames `key` from column `from` of RENAMES to column `to`; undefined when no row matches. */
function renameKey(key: string, from: 0 | 1, to: 0 | 1): string | undefined {
  for (const row of RENAMES) {
    const m = templateRegex(row[from]).exec(key);
    if (!m) continue;
    const [, index, param] = m;
    let out = row[to].replace("{i}", index ?? "");
    if (row[to].endsWith(".")) out += param;
    return out;
  }
  return undefined;
}

const regexCache = new Map<string, RegExp>();

function templateRegex(template: string): RegExp {
  let re = regexCache.get(template);
  if (re === undefined) {
    const isPrefix = template.endsWith(".");
    const body = template.replace(/\./g, "\\.").replace("{i}", "(\\d+)");
    // Keep the group numbering fixed: group 1 is the block index (maybe empty), group 2 the param.
    const withIndex = template.includes("{i}") ? body : `()${body}`;
    re = new RegExp(`^${withIndex}${isPrefix ? "(weight|bias)" : ""}$`);
    regexCache.set(template, re);
  }
  return re;
}

function concatRows(parts: readonly HostTensor[], key: string, source: string): HostTensor {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.dtype !== first.dtype || p.shape.slice(1).join() !== first.shape.slice(1).join()) {
      throw new CheckpointError(
        source,
        `query/key/value differ; got ${p.dtype}${fmtShape(p.shape)}, expected ${first.dtype}${fmtShape(first.shape)}`,
        { key },
      );
    }
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.data.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(byteView(p), at);
    at += p.data.byteLength;
  }
  const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 1), 0);
  return hostTensor(first.dtype, [rows, ...first.shape.slice(1)], retype(first, bytes));
}

function splitRows(t: HostTensor, n: number, key: string, source: string): HostTensor[] {
  const rows = t.shape[0] ?? 0;
  if (t.shape.length === 0 || rows % n !== 0) {
    throw new CheckpointError(
      source,
      `cannot split ${fmtShape(t.shape)} into ${n} equal row blocks`,
      { key },
    );
  }
  const bytes = byteView(t);
  const step = bytes.length / n;
  const shape = [rows / n, ...t.shape.slice(1)];
  return Array.from({ length: n }, (_, j) =>
    hostTensor(t.dtype, shape, retype(t, bytes.slice(j * step, (j + 1) * step))),
  );
}

function byteView(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Wraps fresh 0-offset bytes in the same typed-array class as `like`. */
function retype(like: HostTensor, bytes: Uint8Array): HostTensor["data"] {
  const Ctor = like.data.constructor as new (buffer: ArrayBufferLike) => HostTensor["data"];
  return new Ctor(bytes.buffer);
}
