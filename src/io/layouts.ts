// Checkpoint layouts users meet, detected from key names and normalised to the official
// backbone keys (cls_token, pos_embed, register_tokens, mask_token, patch_embed.*, blocks.N.*, norm.*).
import type { HostTensor } from "../core/host-tensor.js";
import { CheckpointError } from "./checkpoint-error.js";
import { hfToOfficial } from "./hf-layout.js";

/** official: a bare backbone state_dict (hub .pth). training: the official training output
 * (`teacher.backbone.*`, maybe `module.`, chunked blocks). hf: Hugging Face Dinov2Model. */
export type CheckpointLayout = "official" | "training" | "hf";

export interface NormaliseOptions {
  /** Which network of a training checkpoint to take (default: teacher, as the eval code does). */
  readonly branch?: "teacher" | "student";
  readonly source?: string;
}

const HF_KEY = /^(dinov2(_with_registers)?\.)?(embeddings\.|encoder\.layer\.\d)/;
const TRAINING_KEY = /^((teacher|student)\.)?(module\.)?backbone\./;
const OFFICIAL_KEY = /^(cls_token|pos_embed|patch_embed\.proj\.weight|blocks\.\d)/;

/** Names the layout of a flat key set; refuses one that matches none, listing a few keys. */
export function detectLayout(keys: Iterable<string>, source = "<checkpoint>"): CheckpointLayout {
  const stripped = [...keys].map(stripModule);
  if (stripped.some((k) => HF_KEY.test(k))) return "hf";
  if (stripped.some((k) => TRAINING_KEY.test(k))) return "training";
  if (stripped.some((k) => OFFICIAL_KEY.test(k))) return "official";
  const sample = stripped.slice(0, 5).join(", ");
  throw new CheckpointError(
    source,
    `no DINOv2 backbone keys found (first keys: ${sample || "none"})`,
    {
      hint: "expected official (cls_token, blocks.N.*), training (teacher.backbone.*) or HF (embeddings.*) keys",
    },
  );
}

/** Detects the layout and returns the backbone under official keys. Heads, loss centers and the
 * other branch of a training checkpoint are dropped; chunked `blocks.C.N.*` become `blocks.N.*`. */
export function toOfficialStateDict(
  stateDict: ReadonlyMap<string, HostTensor>,
  opts: NormaliseOptions = {},
): { layout: CheckpointLayout; stateDict: Map<string, HostTensor> } {
  const source = opts.source ?? "<checkpoint>";
  const layout = detectLayout(stateDict.keys(), source);
  const unwrapped = renameAll(stateDict, stripModule, source);
  switch (layout) {
    case "hf":
      return { layout, stateDict: hfToOfficial(unwrapped, source) };
    case "training":
      return { layout, stateDict: unchunk(selectBackbone(unwrapped, opts.branch, source), source) };
    case "official":
      return { layout, stateDict: unchunk(unwrapped, source) };
  }
}

/** The keys of a flat checkpoint that toOfficialStateDict keeps: for a training checkpoint only
 * the chosen branch's backbone (not the other branch, the heads or the optimizer state). Lets a
 * lazy reader load just these. */
export function backboneKeys(keys: Iterable<string>, opts: NormaliseOptions = {}): Set<string> {
  const all = [...keys];
  if (detectLayout(all, opts.source) !== "training") return new Set(all);
  const stripped = all.map(stripModule);
  const prefix = branchPrefix(stripped, opts.branch);
  return new Set(all.filter((_, i) => backboneRest(stripped[i]!, prefix) !== undefined));
}

/** Keeps `<branch>.backbone.*` (or bare `backbone.*`) and strips those prefixes. */
function selectBackbone(
  stateDict: ReadonlyMap<string, HostTensor>,
  branch: "teacher" | "student" | undefined,
  source: string,
): Map<string, HostTensor> {
  const prefix = branchPrefix([...stateDict.keys()], branch);
  const out = new Map<string, HostTensor>();
  for (const [key, t] of stateDict) {
    const rest = backboneRest(key, prefix);
    if (rest !== undefined) out.set(rest, t);
  }
  if (out.size === 0) {
    throw new CheckpointError(source, `no ${prefix}backbone.* keys in this training checkpoint`, {
      hint: prefix === "" ? "" : `is the ${prefix.slice(0, -1)} branch saved here?`,
    });
  }
  return out;
}

/** "teacher." / "student." (the branch asked for, else the first one present), or "". */
function branchPrefix(keys: readonly string[], branch: "teacher" | "student" | undefined): string {
  const chosen =
    branch ??
    (["teacher", "student"] as const).find((b) => keys.some((k) => k.startsWith(`${b}.`)));
  return chosen === undefined ? "" : `${chosen}.`;
}

/** The backbone key under `<prefix>[module.]backbone.[module.]`, or undefined for other keys. */
function backboneRest(key: string, prefix: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = stripModule(key.slice(prefix.length));
  return rest.startsWith("backbone.") ? stripModule(rest.slice("backbone.".length)) : undefined;
}

/** `blocks.{chunk}.{i}.*` (block_chunks > 0, FSDP) -> `blocks.{i}.*`; indices are already global. */
function unchunk(
  stateDict: ReadonlyMap<string, HostTensor>,
  source: string,
): Map<string, HostTensor> {
  return renameAll(stateDict, (key) => key.replace(/^blocks\.\d+\.(\d+)\./, "blocks.$1."), source);
}

function renameAll(
  stateDict: ReadonlyMap<string, HostTensor>,
  rename: (key: string) => string,
  source: string,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [key, t] of stateDict) {
    const renamed = rename(key);
    if (out.has(renamed)) {
      throw new CheckpointError(source, `two keys normalise to "${renamed}"`, { key });
    }
    out.set(renamed, t);
  }
  return out;
}

/** DistributedDataParallel wraps every key in `module.`. */
function stripModule(key: string): string {
  return key.startsWith("module.") ? key.slice("module.".length) : key;
}
