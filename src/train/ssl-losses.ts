// The three steps of SSLMetaArch.forward_backward as named functions: teacher targets (no
// gradient), student outputs (packed crops, heads), and the official loss composition.
import {
  add,
  concat,
  div,
  gather,
  input,
  logSoftmax,
  mean,
  mul,
  neg,
  reshape,
  split,
  stopGradient,
  sum,
  type Tensor,
  withScope,
} from "../core/index.js";
import {
  centerUpdate,
  dinoCrossEntropy,
  ibotMaskedLoss,
  koleoLoss,
  maskedRowMean,
  sinkhornKnopp,
  softmaxCenter,
} from "../losses/index.js";
import type { BlockDrop } from "../nn/block.js";
import type { SslModel } from "./ssl-model.js";
import type { StepBatch, StepConfig } from "./train-step.js";

export interface TeacherTargets {
  /** Teacher probabilities for the global CLS tokens, crops swapped: [2B, K]. */
  readonly dinoProbs: Tensor;
  /** Teacher probabilities for the masked patch tokens: [U, Ki] (padding rows weigh 0). */
  readonly ibotProbs: Tensor;
  readonly newDinoCenter: Tensor;
  readonly newIbotCenter: Tensor | undefined;
}

export interface StudentOutputs {
  readonly localLogits: Tensor | undefined; // [nL*B, K]
  readonly globalLogits: Tensor; // [2B, K]
  readonly patchLogits: Tensor; // [U, Ki]
  readonly globalCls: Tensor; // [2B, D], backbone output for KoLeo
}

export interface SslLosses {
  readonly total: Tensor;
  /** As the official loss_dict reports them (koleo and ibot halved), plus `total`. */
  readonly reported: Readonly<
    Record<
      "dino_local_crops_loss" | "dino_global_crops_loss" | "koleo_loss" | "ibot_loss" | "total",
      Tensor
    >
  >;
}

/** Centers are graph inputs `dinoCenter` [1, K] and `ibotCenter` [1, 1, Ki]. */
export function teacherTargets(
  teacher: SslModel,
  b: StepBatch,
  temp: Tensor,
  c: StepConfig,
): TeacherTargets {
  const f = withScope("backbone", () => teacher.backbone.forwardFeatures(b.globalCrops));
  const [a, bb] = split(f.clsToken, 0, [c.batch, c.batch]);
  const cls = concat([bb!, a!], 0); // crop A is matched to teacher crop B
  const masked = maskedPatches(f.patchTokens, b.maskIndices);
  const { clsLogits, patchLogits } = withScope("heads", () => heads(teacher, cls, masked));
  const tCls = stopGradient(clsLogits);
  const tPatch = stopGradient(patchLogits);
  const k = tCls.shape[1]!;
  const ki = tPatch.shape[1]!;
  const dinoCenter = input("dinoCenter", [1, k]);
  const ibotCenter = input("ibotCenter", [1, 1, ki]);
  if (c.centering === "sinkhorn_knopp") {
    return {
      dinoProbs: sinkhornKnopp(tCls, temp),
      ibotProbs: sinkhornKnopp(tPatch, temp, { valid: b.maskValid, count: b.nMasked }),
      newDinoCenter: dinoCenter,
      newIbotCenter: ibotCenter,
    };
  }
  return {
    dinoProbs: softmaxCenter(tCls, dinoCenter, temp),
    ibotProbs: softmaxCenter(tPatch, reshape(ibotCenter, [1, ki]), temp),
    newDinoCenter: centerUpdate(dinoCenter, mean(tCls, 0, { keepDims: true }), c.centerMomentum),
    newIbotCenter: centerUpdate(
      ibotCenter,
      maskedRowMean(tPatch, b.maskValid, b.nMasked),
      c.centerMomentum,
    ),
  };
}

/**
 * The student on [masked global crops, local crops], then the heads. One drop plan: the crops
 * are packed into one forward pass; one plan per crop group: a forward pass per group.
 */
export function studentOutputs(
  student: SslModel,
  b: StepBatch,
  drops: readonly (readonly BlockDrop[])[],
): StudentOutputs {
  const crops = [
    { images: b.globalCrops, masks: b.masks },
    ...(b.localCrops ? [{ images: b.localCrops }] : []),
  ];
  const [g, l] = withScope("backbone", () =>
    drops.length === 1
      ? student.backbone.forwardFeaturesList(crops, drops[0])
      : crops.map((crop, i) => student.backbone.forwardFeaturesList([crop], drops[i])[0]!),
  );
  const masked = maskedPatches(g!.patchTokens, b.maskIndices);
  const { clsLogits, patchLogits } = withScope("heads", () => heads(student, g!.clsToken, masked));
  const localLogits = l
    ? withScope("heads.dino_head", () => student.dinoHead.forward(l.clsToken))
    : undefined;
  return { localLogits, globalLogits: clsLogits, patchLogits, globalCls: g!.clsToken };
}

/** DINO local + global, KoLeo and iBOT, scaled exactly as forward_backward. */
export function sslLosses(
  s: StudentOutputs,
  t: TeacherTargets,
  b: StepBatch,
  c: StepConfig,
): SslLosses {
  const terms = 2 + Math.max(c.nLocal * 2, 1);
  const zero = mul(sum(t.dinoProbs), 0);
  let local = zero;
  if (s.localLogits) {
    // sum over local chunks i and teacher crops j of CE(s_i, t_j) = CE against t_0 + t_1.
    const k = t.dinoProbs.shape[1]!;
    const [t0, t1] = split(t.dinoProbs, 0, [c.batch, c.batch]);
    const lsm = reshape(logSoftmax(div(s.localLogits, c.studentTemp), -1), [c.nLocal, c.batch, k]);
    local = div(neg(div(sum(mul(lsm, add(t0!, t1!))), c.batch)), terms);
  }
  const global = div(mul(dinoCrossEntropy(s.globalLogits, t.dinoProbs, c.studentTemp), 2), terms);
  const [g0, g1] = split(s.globalCls, 0, [c.batch, c.batch]);
  const koleo =
    c.koleoLossWeight > 0 ? mul(add(koleoLoss(g0!), koleoLoss(g1!)), c.koleoLossWeight) : zero;
  const ibot =
    c.ibotLossWeight > 0
      ? ibotMaskedLoss(s.patchLogits, t.ibotProbs, b.maskWeights, 2 * c.batch, c.studentTemp)
      : zero;
  const total = add(
    add(mul(add(local, global), c.dinoLossWeight), koleo),
    mul(ibot, c.ibotLossWeight),
  );
  return {
    total,
    reported: {
      dino_local_crops_loss: local,
      dino_global_crops_loss: global,
      koleo_loss: div(koleo, 2),
      ibot_loss: div(ibot, 2),
      total,
    },
  };
}

/** Rows of the flattened patch tokens at the (padded) masked indices: [U, D]. */
function maskedPatches(patchTokens: Tensor, maskIndices: Tensor): Tensor {
  const [b, p, d] = patchTokens.shape as [number, number, number];
  return gather(reshape(patchTokens, [b * p, d]), maskIndices, 0);
}

/**
 * The heads per row group. The official code concatenates the groups for one head call; the head
 * is per row, so calling it per group gives the same numbers without slicing (and, backwards,
 * padding) the [rows, prototypes] logits.
 */
function heads(
  m: SslModel,
  cls: Tensor,
  masked: Tensor,
): { clsLogits: Tensor; patchLogits: Tensor } {
  const patchHead = m.ibotHead ?? m.dinoHead;
  return {
    clsLogits: withScope("dino_head", () => m.dinoHead.forward(cls)),
    patchLogits: withScope(m.ibotHead ? "ibot_head" : "dino_head", () => patchHead.forward(masked)),
  };
}
