// The official DinoVisionTransformer constructor keywords (as in fixture JSON or configs) -> VitOptions.
import { ShapeError } from "../core/index.js";
import { VIT_DEFAULTS, type VitOptions } from "./presets.js";

export interface OfficialVitConfig {
  readonly img_size?: number;
  readonly patch_size?: number;
  readonly embed_dim?: number;
  readonly depth?: number;
  readonly num_heads?: number;
  readonly mlp_ratio?: number;
  readonly ffn_layer?: string;
  readonly num_register_tokens?: number;
  readonly interpolate_antialias?: boolean;
  readonly interpolate_offset?: number;
  readonly layernorm_eps?: number;
  readonly init_values?: number | null;
  readonly qkv_bias?: boolean;
  readonly proj_bias?: boolean;
  readonly ffn_bias?: boolean;
}

const FFN: Readonly<Record<string, VitOptions["ffnLayer"]>> = {
  mlp: "mlp",
  swiglu: "swiglu",
  swiglufused: "swiglu",
};

export function vitOptionsFromOfficial(
  c: OfficialVitConfig,
  overrides: Partial<VitOptions> = {},
): VitOptions {
  const ffn = FFN[c.ffn_layer ?? "mlp"];
  if (!ffn) {
    throw new ShapeError(
      "vitOptionsFromOfficial",
      `unknown ffn_layer "${c.ffn_layer}"; expected one of ${Object.keys(FFN).join(", ")}`,
    );
  }
  const d = VIT_DEFAULTS;
  return {
    ...d,
    imgSize: c.img_size ?? d.imgSize,
    patchSize: c.patch_size ?? d.patchSize,
    embedDim: c.embed_dim ?? d.embedDim,
    depth: c.depth ?? d.depth,
    numHeads: c.num_heads ?? d.numHeads,
    mlpRatio: c.mlp_ratio ?? d.mlpRatio,
    ffnLayer: ffn,
    numRegisterTokens: c.num_register_tokens ?? 0,
    interpolateAntialias: c.interpolate_antialias ?? false,
    interpolateOffset: c.interpolate_offset ?? 0.1,
    layerNormEps: c.layernorm_eps ?? 1e-6,
    layerscale: c.init_values === undefined ? d.layerscale : c.init_values,
    qkvBias: c.qkv_bias ?? true,
    projBias: c.proj_bias ?? true,
    ffnBias: c.ffn_bias ?? true,
    ...overrides,
  };
}
