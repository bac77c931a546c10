// The training config schema: the official dinov2/configs/ssl_default_config.yaml keys and defaults
// (snake_case, so official YAML files load unchanged), plus our extensions marked "ours".
import { z } from "zod";
import { ARCH_NAMES, MEMEFF_SUFFIX } from "./archs.js";

/** FSDP sharding strategies of dinov2/fsdp/__init__.py (accepted for compatibility). */
export const SHARDING_STRATEGIES = ["NO_SHARD", "SHARD_GRAD_OP", "FULL_SHARD"] as const;
export const PRECISIONS = ["fp32", "fp16", "bf16"] as const;
/** `student.ffn_layer` values accepted by dinov2/models/vision_transformer.py. */
export const FFN_LAYERS = ["mlp", "swiglu", "swiglufused", "identity"] as const;
export const CENTERINGS = ["centering", "sinkhorn_knopp"] as const;
/** `optim.scaling_rule`: apply_scaling_rules_to_cfg in dinov2/utils/config.py knows only this one. */
export const SCALING_RULES = ["sqrt_wrt_1024"] as const;
/** Ours. "released": the inverted blur probabilities the checkpoints were trained with; "paper": as written. */
export const BLUR_MODES = ["released", "paper"] as const;

const int = (min: number) => z.int().min(min);
const prob = () => z.number().min(0).max(1);
const range = (lo: number, hi: number) => z.tuple([z.number(), z.number()]).default([lo, hi]);

const precisionOf = (reduce: (typeof PRECISIONS)[number]) =>
  z
    .strictObject({
      sharding_strategy: z.enum(SHARDING_STRATEGIES).default("SHARD_GRAD_OP"),
      mixed_precision: z
        .strictObject({
          param_dtype: z.enum(PRECISIONS).default("fp16"),
          reduce_dtype: z.enum(PRECISIONS).default(reduce),
          buffer_dtype: z.enum(PRECISIONS).default("fp32"),
        })
        .prefault({}),
    })
    .prefault({});

// Student heads reduce gradients in fp32 (paper: "MLP heads gradients are reduced in float32").
const modelPrecision = (headReduce: (typeof PRECISIONS)[number]) =>
  z
    .strictObject({
      backbone: precisionOf("fp16"),
      dino_head: precisionOf(headReduce),
      ibot_head: precisionOf(headReduce),
    })
    .prefault({});

const headFields = {
  head_n_prototypes: int(1).default(65536),
  head_bottleneck_dim: int(1).default(256),
  head_nlayers: int(1).default(3),
  head_hidden_dim: int(1).default(2048),
};

const Arch = z.preprocess(
  (v) =>
    typeof v === "string" && v.endsWith(MEMEFF_SUFFIX) ? v.slice(0, -MEMEFF_SUFFIX.length) : v,
  z.enum(ARCH_NAMES),
);

/** The one config schema. Parse `{}` to get the official defaults. */
export const TrainConfig = z.strictObject({
  MODEL: z.strictObject({ WEIGHTS: z.string().default("") }).prefault({}),
  compute_precision: z
    .strictObject({
      grad_scaler: z.boolean().default(true),
      teacher: modelPrecision("fp16"),
      student: modelPrecision("fp32"),
    })
    .prefault({}),
  dino: z
    .strictObject({
      loss_weight: z.number().min(0).default(1.0),
      ...headFields,
      koleo_loss_weight: z.number().min(0).default(0.1),
    })
    .prefault({}),
  ibot: z
    .strictObject({
      loss_weight: z.number().min(0).default(1.0),
      mask_sample_probability: prob().default(0.5),
      mask_ratio_min_max: range(0.1, 0.5),
      separate_head: z.boolean().default(false),
      ...headFields,
    })
    .prefault({}),
  train: z
    .strictObject({
      batch_size_per_gpu: int(1).default(64),
      dataset_path: z.string().default("ImageNet:split=TRAIN"),
      output_dir: z.string().default("."),
      saveckp_freq: int(0).default(20),
      seed: int(0).default(0),
      num_workers: int(0).default(10),
      OFFICIAL_EPOCH_LENGTH: int(1).default(1250),
      cache_dataset: z.boolean().default(true),
      centering: z.enum(CENTERINGS).default("centering"),
    })
    .prefault({}),
  student: z
    .strictObject({
      arch: Arch.default("vit_large"),
      embed_dim: int(1).optional(), // ours: overrides the arch's width
      depth: int(1).optional(), // ours: overrides the arch's number of blocks
      num_heads: int(1).optional(), // ours: overrides the arch's number of heads
      patch_size: int(1).default(16),
      drop_path_rate: z.number().min(0).lt(1).default(0.3),
      layerscale: z.number().min(0).nullable().default(1.0e-5),
      drop_path_uniform: z.boolean().default(true),
      pretrained_weights: z.string().default(""),
      ffn_layer: z.enum(FFN_LAYERS).default("mlp"),
      block_chunks: int(0).default(0),
      qkv_bias: z.boolean().default(true),
      proj_bias: z.boolean().default(true),
      ffn_bias: z.boolean().default(true),
      num_register_tokens: int(0).default(0),
      interpolate_antialias: z.boolean().default(false),
      interpolate_offset: z.number().min(0).default(0.1),
    })
    .prefault({}),
  teacher: z
    .strictObject({
      momentum_teacher: prob().default(0.992),
      final_momentum_teacher: prob().default(1),
      warmup_teacher_temp: z.number().positive().default(0.04),
      teacher_temp: z.number().positive().default(0.07),
      warmup_teacher_temp_epochs: int(0).default(30),
    })
    .prefault({}),
  optim: z
    .strictObject({
      epochs: int(1).default(100),
      weight_decay: z.number().min(0).default(0.04),
      weight_decay_end: z.number().min(0).default(0.4),
      base_lr: z.number().positive().default(0.004), // for a batch size of 1024
      lr: z.number().optional(), // official placeholder; ignored, the scaled lr is derived.lr
      warmup_epochs: int(0).default(10),
      min_lr: z.number().min(0).default(1.0e-6),
      clip_grad: z.number().min(0).default(3.0), // 0 disables clipping
      freeze_last_layer_epochs: int(0).default(1),
      freeze_backbone_iters: int(0).default(0), // ours: head warm-up when continuing from weights
      scaling_rule: z.enum(SCALING_RULES).default("sqrt_wrt_1024"),
      patch_embed_lr_mult: z.number().min(0).default(0.2),
      layerwise_decay: z.number().positive().default(0.9),
      adamw_beta1: z.number().min(0).lt(1).default(0.9),
      adamw_beta2: z.number().min(0).lt(1).default(0.999),
      adamw_eps: z.number().positive().default(1e-8), // ours: torch.optim.AdamW's default
    })
    .prefault({}),
  crops: z
    .strictObject({
      global_crops_scale: range(0.32, 1.0),
      local_crops_number: int(0).default(8),
      local_crops_scale: range(0.05, 0.32),
      global_crops_size: int(1).default(224),
      local_crops_size: int(1).default(96),
      blur_mode: z.enum(BLUR_MODES).default("released"), // ours
    })
    .prefault({}),
  evaluation: z.strictObject({ eval_period_iterations: z.int().default(12500) }).prefault({}),
  // Ours (the official code never released distillation): the paper's §5 recipe as defaults.
  distillation: z
    .strictObject({
      teacher_weights: z.string().default(""), // a frozen teacher with heads; set: distill
      ibot_all_patches: z.boolean().default(true), // no masking; iBOT on every patch token
      student_ema: z.boolean().default(true), // a spare EMA of the student is the result
      student_drop_path_rate: z.number().min(0).lt(1).default(0), // no stochastic depth
    })
    .prefault({}),
});

export type TrainConfig = z.infer<typeof TrainConfig>;

/** A partial config as written in presets and files: nested objects optional, lists whole. */
export type ConfigPatch = DeepPartial<TrainConfig>;

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type DeepReadonly<T> = T extends readonly unknown[]
  ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The keys the schema allows at a dotted path, or undefined when the path is not a section. */
export function configKeysAt(path: readonly string[]): readonly string[] | undefined {
  let shape = sectionShape(TrainConfig);
  for (const seg of path) {
    const child = shape?.[seg];
    if (child === undefined) return undefined;
    shape = sectionShape(child);
  }
  return shape ? Object.keys(shape) : undefined;
}

type SchemaShape = Readonly<Record<string, z.core.$ZodType>>;

function sectionShape(schema: z.core.$ZodType): SchemaShape | undefined {
  let def = schema._zod.def as z.core.$ZodTypeDef & {
    innerType?: z.core.$ZodType;
    shape?: SchemaShape;
  };
  while (def.innerType !== undefined) def = def.innerType._zod.def;
  return def.type === "object" ? def.shape : undefined;
}
