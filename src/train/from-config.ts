// A resolved TrainConfig -> the static shapes and options of the train step and the data pipeline.
import type { ResolvedConfig } from "../config/index.js";
import type { DataAugmentationDinoOptions } from "../data/augment.js";
import { linspaceF32, truncMulF32 } from "../data/python-numerics.js";
import { VIT_DEFAULTS } from "../models/presets.js";
import { headsFor, type StepConfig } from "./step-config.js";

/** The official collate's static bound on masked patches: Σ int(N · probs[i+1]). */
export function maskUpperbound(
  batch: number,
  patchesPerCrop: number,
  maskProbability: number,
  ratio: readonly [number, number],
): number {
  const n = Math.trunc(2 * batch * maskProbability);
  const probs = linspaceF32(ratio[0], ratio[1], n + 1);
  let ub = 0;
  for (let i = 0; i < n; i++) ub += truncMulF32(patchesPerCrop, probs[i + 1]!);
  return Math.max(ub, 1);
}

interface HeadKeys {
  readonly head_n_prototypes: number;
  readonly head_hidden_dim: number;
  readonly head_bottleneck_dim: number;
  readonly head_nlayers: number;
}

export function stepConfigFromTrain({ cfg, derived }: ResolvedConfig): StepConfig {
  const bb = derived.backbone;
  const head = (h: HeadKeys) => ({
    inDim: bb.embedDim,
    outDim: h.head_n_prototypes,
    hiddenDim: h.head_hidden_dim,
    bottleneckDim: h.head_bottleneck_dim,
    nlayers: h.head_nlayers,
  });
  return {
    arch: {
      backbone: {
        ...VIT_DEFAULTS,
        imgSize: bb.imgSize,
        patchSize: bb.patchSize,
        embedDim: bb.embedDim,
        depth: bb.depth,
        numHeads: bb.numHeads,
        mlpRatio: bb.mlpRatio,
        ffnLayer: bb.ffn,
        layerscale: cfg.student.layerscale,
        qkvBias: cfg.student.qkv_bias,
        projBias: cfg.student.proj_bias,
        ffnBias: cfg.student.ffn_bias,
        numRegisterTokens: bb.numRegisterTokens,
        interpolateAntialias: cfg.student.interpolate_antialias,
        interpolateOffset: cfg.student.interpolate_offset,
      },
      ...headsFor(head(cfg.dino), cfg.ibot.separate_head ? head(cfg.ibot) : undefined, {
        dino: cfg.dino.loss_weight,
        ibot: cfg.ibot.loss_weight,
      }),
    },
    batch: cfg.train.batch_size_per_gpu,
    globalSize: cfg.crops.global_crops_size,
    localSize: cfg.crops.local_crops_size,
    nLocal: cfg.crops.local_crops_number,
    upperbound: maskUpperbound(
      cfg.train.batch_size_per_gpu,
      derived.patchesPerGlobalCrop,
      cfg.ibot.mask_sample_probability,
      cfg.ibot.mask_ratio_min_max as [number, number],
    ),
    centering: cfg.train.centering,
    studentTemp: 0.1,
    centerMomentum: 0.9,
    dinoLossWeight: cfg.dino.loss_weight,
    koleoLossWeight: cfg.dino.koleo_loss_weight,
    ibotLossWeight: cfg.ibot.loss_weight,
    clipGrad: cfg.optim.clip_grad,
    adamwBetas: [cfg.optim.adamw_beta1, cfg.optim.adamw_beta2],
    adamwEps: cfg.optim.adamw_eps,
    layerwiseDecay: cfg.optim.layerwise_decay,
    patchEmbedLrMult: cfg.optim.patch_embed_lr_mult,
    dropPathRate: cfg.student.drop_path_rate,
    dropPathUniform: cfg.student.drop_path_uniform,
    ...(cfg.optim.freeze_backbone_iters > 0
      ? { freezeBackboneIters: cfg.optim.freeze_backbone_iters }
      : {}),
  };
}

export function augmentationFromTrain({ cfg }: ResolvedConfig): DataAugmentationDinoOptions {
  return {
    globalCropsScale: cfg.crops.global_crops_scale as [number, number],
    localCropsScale: cfg.crops.local_crops_scale as [number, number],
    localCropsNumber: cfg.crops.local_crops_number,
    globalCropsSize: cfg.crops.global_crops_size,
    localCropsSize: cfg.crops.local_crops_size,
    blurMode: cfg.crops.blur_mode,
  };
}

/** The data side of a run: seed, crops, iBOT masking and batch size for createSslLoader. */
export function sslLoaderOptions(resolved: ResolvedConfig) {
  const { cfg, derived } = resolved;
  return {
    seed: cfg.train.seed,
    patchSize: derived.backbone.patchSize,
    augmentation: augmentationFromTrain(resolved),
    maskRatioMinMax: cfg.ibot.mask_ratio_min_max as [number, number],
    maskProbability: cfg.ibot.mask_sample_probability,
    batchSize: cfg.train.batch_size_per_gpu,
  } as const;
}
