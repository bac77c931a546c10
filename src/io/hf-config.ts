// Hugging Face config.json (Dinov2Config / Dinov2WithRegistersConfig) <-> backbone options.
// Missing fields take HF's defaults, as from_pretrained does.
import { CheckpointError } from "./checkpoint-error.js";
import { type CheckpointOptions, conventionalInterpolation } from "./checkpoint-options.js";

const MODEL_TYPES = {
  dinov2: "Dinov2Model",
  dinov2_with_registers: "Dinov2WithRegistersModel",
} as const;

/** Reads a parsed config.json. HF models interpolate position embeddings with no offset, and
 * with antialias only in the register variant; the options say so explicitly. */
export function hfConfigToOptions(configJson: unknown, source = "config.json"): CheckpointOptions {
  if (typeof configJson !== "object" || configJson === null || Array.isArray(configJson)) {
    throw new CheckpointError(source, "config is not a JSON object");
  }
  const cfg = configJson as Readonly<Record<string, unknown>>;
  const modelType = cfg.model_type;
  if (modelType !== "dinov2" && modelType !== "dinov2_with_registers") {
    throw new CheckpointError(source, `${JSON.stringify(modelType)} is not a DINOv2 model type`, {
      key: "model_type",
      hint: `expected one of ${Object.keys(MODEL_TYPES).join(", ")}`,
    });
  }
  const get = reader(cfg, source);
  const act = cfg.hidden_act ?? "gelu";
  if (act !== "gelu") {
    throw new CheckpointError(source, `${JSON.stringify(act)} is not supported; expected "gelu"`, {
      key: "hidden_act",
    });
  }
  const numRegisterTokens = modelType === "dinov2" ? 0 : get.int("num_register_tokens", 4);
  return {
    embedDim: get.int("hidden_size", 768),
    depth: get.int("num_hidden_layers", 12),
    numHeads: get.int("num_attention_heads", 12),
    patchSize: get.int("patch_size", 14),
    imgSize: get.int("image_size", 224),
    inChans: get.int("num_channels", 3),
    mlpRatio: get.num("mlp_ratio", 4),
    ffnLayer: get.bool("use_swiglu_ffn", false) ? "swiglu" : "mlp",
    numRegisterTokens,
    layerNormEps: get.num("layer_norm_eps", 1e-6),
    ...conventionalInterpolation("hf", numRegisterTokens),
    layerscale: get.num("layerscale_value", 1),
    qkvBias: get.bool("qkv_bias", true),
    projBias: true,
    ffnBias: true,
  };
}

/** Writes a config.json object for these options, as save_pretrained would. The HF models
 * cannot express `interpolateOffset` 0.1 (official non-register models): resized inputs then
 * give slightly different features (transformers issue #32175), as with HF's own conversion. */
export function optionsToHfConfig(options: CheckpointOptions): Record<string, unknown> {
  const need = (key: keyof CheckpointOptions): number => {
    const v = options[key];
    if (typeof v !== "number") {
      throw new CheckpointError("config.json", "is required to write an HF config", {
        key,
      });
    }
    return v;
  };
  for (const key of ["projBias", "ffnBias"] as const) {
    if (options[key] === false) {
      throw new CheckpointError("config.json", `HF Dinov2 always has a ${key}; got false`, { key });
    }
  }
  const registers = options.numRegisterTokens ?? 0;
  const modelType = registers > 0 ? "dinov2_with_registers" : "dinov2";
  return {
    apply_layernorm: true,
    architectures: [MODEL_TYPES[modelType]],
    attention_probs_dropout_prob: 0,
    drop_path_rate: 0,
    hidden_act: "gelu",
    hidden_dropout_prob: 0,
    hidden_size: need("embedDim"),
    image_size: need("imgSize"),
    initializer_range: 0.02,
    layer_norm_eps: options.layerNormEps ?? 1e-6,
    layerscale_value: options.layerscale ?? 1,
    mlp_ratio: options.mlpRatio ?? 4,
    model_type: modelType,
    num_attention_heads: need("numHeads"),
    num_channels: options.inChans ?? 3,
    num_hidden_layers: need("depth"),
    ...(registers > 0 ? { num_register_tokens: registers } : { use_mask_token: true }),
    patch_size: need("patchSize"),
    qkv_bias: options.qkvBias ?? true,
    use_swiglu_ffn: options.ffnLayer === "swiglu",
  };
}

function reader(cfg: Readonly<Record<string, unknown>>, source: string) {
  const field = <T>(key: string, fallback: T, ok: (v: unknown) => boolean, what: string): T => {
    const v = cfg[key];
    if (v === undefined || v === null) return fallback;
    if (!ok(v))
      throw new CheckpointError(source, `got ${JSON.stringify(v)}, expected ${what}`, {
        key,
      });
    return v as T;
  };
  return {
    int: (key: string, fallback: number) =>
      field(
        key,
        fallback,
        (v) => Number.isSafeInteger(v) && (v as number) >= 0,
        "a non-negative integer",
      ),
    num: (key: string, fallback: number) =>
      field(key, fallback, (v) => typeof v === "number" && Number.isFinite(v), "a number"),
    bool: (key: string, fallback: boolean) =>
      field(key, fallback, (v) => typeof v === "boolean", "a boolean"),
  };
}
