// StepConfig from the keys the official config uses (fixture JSON `config`, or a resolved TrainConfig).
import { VIT_DEFAULTS } from "../models/presets.js";
import type { StepConfig } from "./train-step.js";

/** The flat config of the ssl_step fixtures (official key names). */
export interface OfficialStepKeys {
  readonly embed_dim: number;
  readonly depth: number;
  readonly num_heads: number;
  readonly patch_size: number;
  readonly global_crops_size: number;
  readonly local_crops_size: number;
  readonly local_crops_number: number;
  readonly batch_size: number;
  readonly layerscale: number | null;
  readonly num_register_tokens: number;
  readonly ffn_layer: string;
  readonly n_prototypes: number;
  readonly head_hidden_dim: number;
  readonly head_bottleneck_dim: number;
  readonly head_nlayers: number;
  readonly ibot_separate_head: boolean;
  readonly ibot_n_prototypes: number;
  readonly ibot_head_hidden_dim?: number;
  readonly ibot_head_bottleneck_dim?: number;
  readonly centering: "centering" | "sinkhorn_knopp";
  readonly koleo_loss_weight: number;
  readonly dino_loss_weight: number;
  readonly ibot_loss_weight: number;
  readonly clip_grad: number;
  readonly layerwise_decay: number;
  readonly patch_embed_lr_mult: number;
  readonly adamw_betas: readonly [number, number];
  readonly adamw_eps: number;
  readonly center_momentum: number;
  readonly student_temp: number;
  readonly upperbound: number;
  readonly drop_path_rate?: number;
  readonly drop_path_uniform?: boolean;
  readonly interpolate_antialias?: boolean;
  readonly interpolate_offset?: number;
}

export function stepConfigFromOfficial(
  k: OfficialStepKeys,
  extra: Partial<StepConfig> = {},
): StepConfig {
  const head = {
    inDim: k.embed_dim,
    hiddenDim: k.head_hidden_dim,
    bottleneckDim: k.head_bottleneck_dim,
    nlayers: k.head_nlayers,
  };
  return {
    arch: {
      backbone: {
        ...VIT_DEFAULTS,
        imgSize: k.global_crops_size,
        patchSize: k.patch_size,
        embedDim: k.embed_dim,
        depth: k.depth,
        numHeads: k.num_heads,
        ffnLayer: k.ffn_layer === "mlp" ? "mlp" : "swiglu",
        layerscale: k.layerscale,
        numRegisterTokens: k.num_register_tokens,
        interpolateAntialias: k.interpolate_antialias ?? false,
        interpolateOffset: k.interpolate_offset ?? 0.1,
      },
      dinoHead: { ...head, outDim: k.n_prototypes },
      ...(k.ibot_separate_head
        ? {
            ibotHead: {
              ...head,
              outDim: k.ibot_n_prototypes,
              hiddenDim: k.ibot_head_hidden_dim ?? k.head_hidden_dim,
              bottleneckDim: k.ibot_head_bottleneck_dim ?? k.head_bottleneck_dim,
            },
          }
        : {}),
    },
    batch: k.batch_size,
    globalSize: k.global_crops_size,
    localSize: k.local_crops_size,
    nLocal: k.local_crops_number,
    upperbound: k.upperbound,
    centering: k.centering,
    studentTemp: k.student_temp,
    centerMomentum: k.center_momentum,
    dinoLossWeight: k.dino_loss_weight,
    koleoLossWeight: k.koleo_loss_weight,
    ibotLossWeight: k.ibot_loss_weight,
    clipGrad: k.clip_grad,
    adamwBetas: k.adamw_betas,
    adamwEps: k.adamw_eps,
    layerwiseDecay: k.layerwise_decay,
    patchEmbedLrMult: k.patch_embed_lr_mult,
    dropPathRate: k.drop_path_rate ?? 0,
    dropPathUniform: k.drop_path_uniform ?? true,
    ...extra,
  };
}
