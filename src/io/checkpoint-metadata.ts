// Backbone options carried in a safetensors file's `__metadata__` (written by `dinov2 convert`),
// so a converted checkpoint keeps what its shapes cannot say: heads, interpolation, eps.
import { CheckpointError } from "./checkpoint-error.js";
import type { CheckpointOptions } from "./checkpoint-options.js";

/** The `__metadata__` key holding the options as JSON. */
export const OPTIONS_METADATA_KEY = "dinov2_options";

type Kind = "int" | "number" | "boolean" | "ffn" | "layerscale";

const FIELDS: Readonly<Record<keyof CheckpointOptions, Kind>> = {
  embedDim: "int",
  depth: "int",
  numHeads: "int",
  patchSize: "int",
  imgSize: "int",
  inChans: "int",
  mlpRatio: "number",
  ffnLayer: "ffn",
  numRegisterTokens: "int",
  layerNormEps: "number",
  interpolateAntialias: "boolean",
  interpolateOffset: "number",
  layerscale: "layerscale",
  qkvBias: "boolean",
  projBias: "boolean",
  ffnBias: "boolean",
};

const VALID: Readonly<Record<Kind, (v: unknown) => boolean>> = {
  int: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  number: (v) => typeof v === "number" && Number.isFinite(v),
  boolean: (v) => typeof v === "boolean",
  ffn: (v) => v === "mlp" || v === "swiglu",
  layerscale: (v) => v === null || (typeof v === "number" && Number.isFinite(v)),
};

/** `{dinov2_options: "<json>"}` with the fields that are set, in a fixed order. */
export function optionsToMetadata(options: CheckpointOptions): Record<string, string> {
  const kept = Object.keys(FIELDS)
    .filter((k) => options[k as keyof CheckpointOptions] !== undefined)
    .map((k) => [k, options[k as keyof CheckpointOptions]]);
  return { [OPTIONS_METADATA_KEY]: JSON.stringify(Object.fromEntries(kept)) };
}

/** The options in a file's metadata, checked field by field; undefined when there are none. */
export function metadataToOptions(
  metadata: Readonly<Record<string, string>> | undefined,
  source: string,
): CheckpointOptions | undefined {
  const text = metadata?.[OPTIONS_METADATA_KEY];
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(source, `is not JSON (${(err as Error).message})`, {
      key: `__metadata__.${OPTIONS_METADATA_KEY}`,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointError(source, "is not a JSON object", {
      key: `__metadata__.${OPTIONS_METADATA_KEY}`,
    });
  }
  for (const [k, v] of Object.entries(parsed)) {
    const kind = Object.hasOwn(FIELDS, k) ? FIELDS[k as keyof CheckpointOptions] : undefined;
    if (kind === undefined || !VALID[kind](v)) {
      throw new CheckpointError(
        source,
        kind === undefined
          ? "is not a backbone option"
          : `got ${JSON.stringify(v)}, expected ${kind}`,
        { key: `__metadata__.${OPTIONS_METADATA_KEY}.${k}` },
      );
    }
  }
  return parsed as CheckpointOptions;
}
