// Backbone options as far as a checkpoint can tell them (config.json, or the weights' shapes).
// Field names follow the models' VitOptions; every field is optional.

/** A partial description of a DinoVisionTransformer, recovered from a checkpoint. */
export interface CheckpointOptions {
  readonly embedDim?: number;
  readonly depth?: number;
  readonly numHeads?: number;
  readonly patchSize?: number;
  readonly imgSize?: number;
  readonly inChans?: number;
  readonly mlpRatio?: number;
  readonly ffnLayer?: "mlp" | "swiglu";
  readonly numRegisterTokens?: number;
  readonly layerNormEps?: number;
  readonly interpolateAntialias?: boolean;
  readonly interpolateOffset?: number;
  /** LayerScale init value (official `layerscale` / `init_values`); null: no LayerScale. */
  readonly layerscale?: number | null;
  readonly qkvBias?: boolean;
  readonly projBias?: boolean;
  readonly ffnBias?: boolean;
}

/** Heads of the released variants (64 dims per head): S, B, L, g. Other widths need numHeads. */
export const HEADS_BY_DIM: Readonly<Record<number, number>> = {
  384: 6,
  768: 12,
  1024: 16,
  1536: 24,
};

/** Hidden width of the official SwiGLU FFN (the rule of nn/ffn.ts swigluHidden, which io may not import): 2/3 of D * mlpRatio, rounded up to a multiple of 8. */
export function swigluHidden(embedDim: number, mlpRatio: number): number {
  const hidden = Math.trunc(embedDim * mlpRatio);
  return Math.floor((Math.trunc((hidden * 2) / 3) + 7) / 8) * 8;
}

/** Position-embedding interpolation as each layout's model does it: the released register
 * models (and every HF Dinov2WithRegisters) use antialias and no offset; HF Dinov2 uses plain
 * bicubic with no offset; the official non-register models use offset 0.1. */
export function conventionalInterpolation(
  layout: "official" | "hf",
  numRegisterTokens: number,
): { interpolateAntialias: boolean; interpolateOffset: number } {
  if (numRegisterTokens > 0) return { interpolateAntialias: true, interpolateOffset: 0 };
  return { interpolateAntialias: false, interpolateOffset: layout === "hf" ? 0 : 0.1 };
}
