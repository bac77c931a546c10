// Backbone sizes by `student.arch` name. The official four are dinov2/models/vision_transformer.py
// vit_small/vit_base/vit_large/vit_giant2; vit_tiny and vit_nano are ours, for demos and tests.

export interface ArchDims {
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
}

/** Backbone dimensions of every accepted `student.arch` (mlp_ratio is 4 for all of them). */
export const ARCH_DIMS = {
  vit_small: { embedDim: 384, depth: 12, numHeads: 6 },
  vit_base: { embedDim: 768, depth: 12, numHeads: 12 },
  vit_large: { embedDim: 1024, depth: 24, numHeads: 16 },
  vit_giant2: { embedDim: 1536, depth: 40, numHeads: 24 },
  vit_tiny: { embedDim: 192, depth: 12, numHeads: 3 }, // DeiT-Ti sizes
  vit_nano: { embedDim: 48, depth: 2, numHeads: 3 }, // the ssl_step fixture sizes
} as const satisfies Record<string, ArchDims>;

export type ArchName = keyof typeof ARCH_DIMS;

/** The accepted names, in table order, for the schema's enum. */
export const ARCH_NAMES = Object.keys(ARCH_DIMS) as [ArchName, ...ArchName[]];

/** Official `build_model` strips this suffix (memory-efficient attention is the only kind here). */
export const MEMEFF_SUFFIX = "_memeff";
