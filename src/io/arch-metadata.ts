// The backbone's full architecture in a safetensors file's __metadata__ (one JSON string under
// "dinov2_ts.arch"), so every file the project writes reloads without flags, whatever its width
// and head count; the weights' shapes cannot tell the number of heads.
import { CheckpointError } from "./checkpoint-error.js";
import type { CheckpointOptions } from "./checkpoint-options.js";

export const ARCH_METADATA_KEY = "dinov2_ts.arch";

const NUMBER_FIELDS = [
  "embedDim",
  "depth",
  "numHeads",
  "patchSize",
  "imgSize",
  "inChans",
  "mlpRatio",
  "numRegisterTokens",
  "layerNormEps",
  "interpolateOffset",
] as const;
const BOOLEAN_FIELDS = ["interpolateAntialias", "qkvBias", "projBias", "ffnBias"] as const;

/** `{ "dinov2_ts.arch": JSON }` for a safetensors file's metadata. */
export function archMetadata(options: CheckpointOptions): Record<string, string> {
  const arch: Record<string, unknown> = {};
  for (const k of [...NUMBER_FIELDS, ...BOOLEAN_FIELDS, "ffnLayer", "layerscale"] as const) {
    if (options[k] !== undefined) arch[k] = options[k];
  }
  return { [ARCH_METADATA_KEY]: JSON.stringify(arch) };
}

/** The architecture a file's metadata records, or undefined when it records none. */
export function readArchMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
  source: string,
): CheckpointOptions | undefined {
  const text = metadata?.[ARCH_METADATA_KEY];
  if (text === undefined) return undefined;
  const bad = (what: string) =>
    new CheckpointError(source, `__metadata__ ${ARCH_METADATA_KEY}: ${what}`, {
      key: ARCH_METADATA_KEY,
    });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad("is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad("is not an object");
  const o = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const ok =
      ((NUMBER_FIELDS as readonly string[]).includes(k) && typeof v === "number") ||
      ((BOOLEAN_FIELDS as readonly string[]).includes(k) && typeof v === "boolean") ||
      (k === "ffnLayer" && (v === "mlp" || v === "swiglu")) ||
      (k === "layerscale" && (v === null || typeof v === "number"));
    if (!ok) throw bad(`unknown field or wrong type: ${k} = ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out as CheckpointOptions;
}
