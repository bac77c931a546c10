// What one train step is: the static shapes and options of the graph (StepConfig), how it is
// implemented (StepImpl), and StepConfig from the flat official keys of the ssl_step fixtures.
import { VIT_DEFAULTS } from "../models/presets.js";
import type { DinoHeadOptions } from "../nn/dino-head.js";
import type { SslArch } from "./ssl-model.js";

/**
 * How the step is computed; every choice gives the same numbers (tested), so it is picked per
 * provider for speed and memory, not for results.
 */
export interface StepImpl {
  /** Sequence packing: all crop groups through the linear layers as one token matrix. */
  readonly packing: boolean;
  /** "efficient": a residual branch runs on the kept samples only; "mask": on all, then masked. */
  readonly dropPath: "efficient" | "mask";
  /**
   * Activation recomputation of the student's blocks (core/checkpoint.ts): the GiB of block
   * activations one forward call may keep for the backward pass; the blocks beyond it keep only
   * their input and are recomputed in the backward. 0: every block; absent: none.
   */
  readonly recomputeBudgetGiB?: number;
}

/** The official implementation (packing and efficient stochastic depth). */
export const OFFICIAL_IMPL: StepImpl = { packing: true, dropPath: "efficient" };

/**
 * The implementation per execution provider, from `npm run bench -- train-step` (README table).
 * CPU: every student block recomputed (peak RSS of the ViT-S/14 recipe step at batch 8: 9.2 ->
 * 4.1 GiB with onnxruntime's arena off too, see trainRuntimeOptions; PyTorch: 5.3 GiB), and no
 * sequence packing: one forward per crop size measured faster on this CPU at every size tried
 * (ViT-S/14 recipe 17.8 vs 20.0 s per step, 3 interleaved rounds; the tiny preset 6.75 vs 7.36 s;
 * the demo level). Other providers: the official implementation, not measured yet. `dinov2 train --recompute / --mem-arena` override the memory choices.
 */
export function implFor(provider: string): StepImpl {
  return provider === "cpu"
    ? { packing: false, dropPath: "efficient", recomputeBudgetGiB: 0 }
    : OFFICIAL_IMPL;
}

/** `impl` keeping every activation (no recomputation). */
export function keepingAll(impl: StepImpl): StepImpl {
  const { recomputeBudgetGiB: _, ...rest } = impl;
  return rest;
}

/**
 * Session options for the training graph. CPU: onnxruntime's memory arena off (freed buffers go
 * back to the system instead of staying in the arena; peak RSS 5.8 -> 2.5 GiB on the ViT-S/14
 * recipe step with recomputation).
 */
export function trainRuntimeOptions(provider: string): { readonly memArena?: boolean } {
  return provider === "cpu" ? { memArena: false } : {};
}

/**
 * The teacher: an EMA of the student (pretraining), or a frozen network of its own architecture
 * with its own heads (distillation; it never updates).
 */
export type TeacherSpec =
  | { readonly kind: "ema" }
  | { readonly kind: "frozen"; readonly arch: SslArch };

export interface StepConfig {
  /** The student (and, for an EMA teacher, the teacher). */
  readonly arch: SslArch;
  /** Default: the EMA teacher of pretraining. */
  readonly teacher?: TeacherSpec;
  /** Keep an EMA of the student as extra state `student_ema.*` (distillation's result). */
  readonly studentEma?: boolean;
  readonly batch: number;
  readonly globalSize: number;
  readonly localSize: number;
  readonly nLocal: number;
  /** Size of the padded masked-token buffer (the official collate's upperbound). */
  readonly upperbound: number;
  readonly centering: "centering" | "sinkhorn_knopp";
  readonly studentTemp: number;
  readonly centerMomentum: number;
  /** 0 turns the DINO terms off, KoLeo with them (KoLeo sits in the DINO branch, as official). */
  readonly dinoLossWeight: number;
  readonly koleoLossWeight: number;
  /** 0 turns the iBOT term off. */
  readonly ibotLossWeight: number;
  /** Max total gradient norm per submodule; 0 turns clipping off (official). */
  readonly clipGrad: number;
  readonly adamwBetas: readonly [number, number];
  readonly adamwEps: number;
  readonly layerwiseDecay: number;
  readonly patchEmbedLrMult: number;
  readonly dropPathRate: number;
  readonly dropPathUniform: boolean;
  /**
   * Head warm-up (ours, for continued pretraining): the backbone's lr and weight decay are 0 for
   * the first N iterations while the heads train; its AdamW moments accumulate meanwhile.
   */
  readonly freezeBackboneIters?: number;
  /** Default OFFICIAL_IMPL. */
  readonly impl?: StepImpl;
  /** Also output the raw gradients (`grad.student.*`), e.g. for parity checks. */
  readonly emitGrads?: boolean;
}

/** Which loss terms run, as SSLMetaArch decides them. */
export function lossTerms(c: StepConfig): { dino: boolean; koleo: boolean; ibot: boolean } {
  const dino = c.dinoLossWeight > 0;
  return { dino, koleo: dino && c.koleoLossWeight > 0, ibot: c.ibotLossWeight > 0 };
}

/**
 * The heads the official SSLMetaArch builds: the DINO head when the DINO loss is on or it is the
 * shared iBOT head; the iBOT head when iBOT is on and untied. Both losses off is refused.
 */
export function headsFor(
  dino: DinoHeadOptions,
  ibot: DinoHeadOptions | undefined,
  w: { readonly dino: number; readonly ibot: number },
): Pick<SslArch, "dinoHead" | "ibotHead"> {
  if (!(w.dino > 0) && !(w.ibot > 0))
    throw new Error(
      "dino.loss_weight and ibot.loss_weight are both 0: the step would train nothing",
    );
  const separate = ibot !== undefined && w.ibot > 0;
  return {
    ...(w.dino > 0 || !separate ? { dinoHead: dino } : {}),
    ...(separate ? { ibotHead: ibot } : {}),
  };
}

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
      ...headsFor(
        { ...head, outDim: k.n_prototypes },
        k.ibot_separate_head
          ? {
              ...head,
              outDim: k.ibot_n_prototypes,
              hiddenDim: k.ibot_head_hidden_dim ?? k.head_hidden_dim,
              bottleneckDim: k.ibot_head_bottleneck_dim ?? k.head_bottleneck_dim,
            }
          : undefined,
        { dino: k.dino_loss_weight, ibot: k.ibot_loss_weight },
      ),
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
