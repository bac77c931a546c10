// Named config presets: the official dinov2/configs/train/*.yaml files, key for key, and ours.
// A preset is a partial config merged over the schema defaults (before any file or --set).
import type { ConfigPatch } from "./schema.js";

// Shared by the official vitl14.yaml and vitg14.yaml (they differ in arch and batch size only).
const longRecipe = (arch: "vit_large" | "vit_giant2", batchSizePerGpu: number) =>
  ({
    dino: { head_n_prototypes: 131072, head_bottleneck_dim: 384 },
    ibot: { separate_head: true, head_n_prototypes: 131072 },
    train: {
      batch_size_per_gpu: batchSizePerGpu,
      dataset_path: "ImageNet22k",
      centering: "sinkhorn_knopp",
    },
    student: {
      arch,
      patch_size: 14,
      drop_path_rate: 0.4,
      ffn_layer: "swiglufused",
      block_chunks: 4,
    },
    teacher: { momentum_teacher: 0.994 },
    optim: {
      epochs: 500,
      weight_decay_end: 0.2,
      base_lr: 2.0e-4,
      warmup_epochs: 80,
      layerwise_decay: 1.0,
    },
    crops: { local_crops_size: 98 },
  }) satisfies ConfigPatch;

const fp32 = {
  mixed_precision: { param_dtype: "fp32", reduce_dtype: "fp32", buffer_dtype: "fp32" },
} as const;
const fp32Model = { backbone: fp32, dino_head: fp32, ibot_head: fp32 } as const;

/** Every preset by name (`--preset <name>`). */
export const PRESETS = {
  /** dinov2/configs/train/vitl14.yaml: ViT-L/14 on ImageNet-22k, 500 epochs. */
  vitl14: longRecipe("vit_large", 32),
  /** dinov2/configs/train/vitg14.yaml: ViT-g/14 on ImageNet-22k, 500 epochs. */
  vitg14: longRecipe("vit_giant2", 12),
  /** dinov2/configs/train/vitl16_short.yaml: "this corresponds to the default config". */
  vitl16_short: {
    train: { dataset_path: "ImageNet:split=TRAIN", batch_size_per_gpu: 64 },
    student: { block_chunks: 4 },
  },
  /** Ours: the ViT-S/14 shapes of the released recipe (2x224 global, 8x98 local, 65536 prototypes). */
  vits14: {
    dino: { head_n_prototypes: 65536 },
    ibot: { head_n_prototypes: 65536 },
    student: { arch: "vit_small", patch_size: 14, drop_path_rate: 0.3 },
    crops: { global_crops_size: 224, local_crops_number: 8, local_crops_size: 98 },
  },
  /**
   * Ours: a tiny run for a 2-core CPU demo on the synthetic set: a 192-wide, 6-block ViT/14 on
   * 56px global and 28px local crops (4x4 and 2x2 patches), small heads, fp32, 500 iterations.
   * Why each choice (measurements in docs/demo-recipe.md, `dinov2 demo` adds DEMO_SETS on top):
   * - 56/28px crops: the step is compute-bound on a CPU (batch 32 costs 3.3x batch 8 per
   *   iteration), so tokens per image decide how many images fit in the few minutes; 112px
   *   global crops would cost about 4x. The PCA picture is drawn at 112px (8x8 patches) instead.
   * - batch 8: a larger batch buys almost no images per second, and fewer, larger steps learn
   *   less in a fixed time; the lr follows the official sqrt(batch / 1024) rule.
   * - 1024 prototypes, 512/128 head: enough for 10 classes; 256 prototypes measured no better.
   * - centering (not Sinkhorn-Knopp): SK over 16 teacher outputs per step spreads a tiny batch
   *   over 1024 prototypes; measured 0.196 vs 0.216 at 100 iterations.
   * - drop path 0.1: 0 measured no better (0.186 at 100 iterations).
   * - teacher temperature warmed up over 3 epochs (150 iterations), fp32 (no scaler on CPU).
   * The knobs above were measured on the old multi-object synthetic scenes, where none of them
   * moved k-NN by more than ±0.03; the gain came from the data (one large object per image, hues
   * within the colour jitter's range): 0.172 -> 0.37-0.38 in 500 iterations (docs/demo-recipe.md).
   */
  "vits14-demo": {
    compute_precision: { grad_scaler: false, teacher: fp32Model, student: fp32Model },
    dino: { head_n_prototypes: 1024, head_bottleneck_dim: 128, head_hidden_dim: 512 },
    ibot: { head_n_prototypes: 1024, head_bottleneck_dim: 128, head_hidden_dim: 512 },
    train: {
      batch_size_per_gpu: 8,
      dataset_path: "synthetic",
      num_workers: 2,
      OFFICIAL_EPOCH_LENGTH: 50,
    },
    student: { arch: "vit_tiny", depth: 6, patch_size: 14, drop_path_rate: 0.1 },
    teacher: { warmup_teacher_temp_epochs: 3 },
    optim: { epochs: 10, warmup_epochs: 1, freeze_last_layer_epochs: 1 },
    crops: { global_crops_size: 56, local_crops_number: 4, local_crops_size: 28 },
    evaluation: { eval_period_iterations: 250 },
  },
} as const satisfies Record<string, ConfigPatch>;

export type PresetName = keyof typeof PRESETS;

/** Preset names in table order, for help texts and error messages. */
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
