// The DINOv2 backbone variants as data (dinov2/models/vision_transformer.py, dinov2/hub/backbones.py).

export interface VitOptions {
  readonly imgSize: number;
  readonly patchSize: number;
  readonly inChans: number;
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly ffnLayer: "mlp" | "swiglu";
  /** LayerScale init; null disables LayerScale (init_values=None). */
  readonly layerscale: number | null;
  readonly qkvBias: boolean;
  readonly projBias: boolean;
  readonly ffnBias: boolean;
  readonly numRegisterTokens: number;
  readonly interpolateAntialias: boolean;
  readonly interpolateOffset: number;
  readonly layerNormEps: number;
  /** Chunk attention queries for sequences longer than this (memory-efficient attention). */
  readonly queryChunk?: number;
  /**
   * Training only: activation recomputation of the blocks (core/checkpoint.ts). The GiB the
   * blocks of one forward call may keep for the backward pass (estimated from their traced
   * values); blocks beyond it, first ones first, keep only their input and are recomputed in the
   * backward pass. 0 recomputes every block; absent keeps everything.
   */
  readonly recomputeBudgetGiB?: number;
}

export const VIT_DEFAULTS: VitOptions = {
  imgSize: 224,
  patchSize: 14,
  inChans: 3,
  embedDim: 384,
  depth: 12,
  numHeads: 6,
  mlpRatio: 4,
  ffnLayer: "mlp",
  layerscale: 1e-5,
  qkvBias: true,
  projBias: true,
  ffnBias: true,
  numRegisterTokens: 0,
  interpolateAntialias: false,
  interpolateOffset: 0.1,
  layerNormEps: 1e-6,
};

const REG4 = { numRegisterTokens: 4, interpolateAntialias: true, interpolateOffset: 0 } as const;
const HUB = { imgSize: 518, layerscale: 1.0 } as const;

/** The released models, as the hub builds them (518² positional grid, LayerScale present). */
export const VIT_PRESETS = {
  vits14: { ...HUB, embedDim: 384, depth: 12, numHeads: 6 },
  vitb14: { ...HUB, embedDim: 768, depth: 12, numHeads: 12 },
  vitl14: { ...HUB, embedDim: 1024, depth: 24, numHeads: 16 },
  vitg14: { ...HUB, embedDim: 1536, depth: 40, numHeads: 24, ffnLayer: "swiglu" },
  vits14_reg4: { ...HUB, ...REG4, embedDim: 384, depth: 12, numHeads: 6 },
  vitb14_reg4: { ...HUB, ...REG4, embedDim: 768, depth: 12, numHeads: 12 },
  vitl14_reg4: { ...HUB, ...REG4, embedDim: 1024, depth: 24, numHeads: 16 },
  vitg14_reg4: { ...HUB, ...REG4, embedDim: 1536, depth: 40, numHeads: 24, ffnLayer: "swiglu" },
} as const satisfies Record<string, Partial<VitOptions>>;

export type VitPreset = keyof typeof VIT_PRESETS;

export function vitOptions(preset: VitPreset, overrides: Partial<VitOptions> = {}): VitOptions {
  return { ...VIT_DEFAULTS, ...VIT_PRESETS[preset], ...overrides };
}

export function isVitPreset(name: string): name is VitPreset {
  return Object.hasOwn(VIT_PRESETS, name);
}
