// The three steps of SSLMetaArch.forward_backward as named functions: teacher targets (no
// gradient), student outputs (packed crops, heads), and the official loss composition.
import {
  add,
  concat,
  div,
  gather,
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
import { patchHeadOf, type SslModel } from "./ssl-model.js";
import type { StepBatch } from "./step-batch.js";
import { lossTerms, type StepConfig } from "./step-config.js";

/** Global crops per image; the official loss counts its terms from it. */
export const N_GLOBAL_CROPS = 2;
/** `loss_scales`: the global crops are processed together, so their terms count twice. */
const GLOBAL_LOSS_SCALE = 2;
/** `ibot_loss_scale`: the iBOT term is averaged over the global crops. */
const IBOT_LOSS_SCALE = 1 / N_GLOBAL_CROPS;
/** KoLeo and iBOT are reported divided by this (loss_dict display, as official). */
const DISPLAY_SCALE = 2;

/** n_global_crops_loss_terms + n_local_crops_loss_terms. */
function lossTermCount(nLocal: number): number {
  return (N_GLOBAL_CROPS - 1) * N_GLOBAL_CROPS + Math.max(nLocal * N_GLOBAL_CROPS, 1);
}

/**
 * What the reported DINO terms read when the student predicts uniformly over its K prototypes:
 * then every crop pair's cross-entropy is ln K whatever the teacher's targets, so the local term
 * is 2·nLocal·ln K / terms and the global one 2·ln K / terms (the scaling sslLosses applies). A
 * run whose DINO terms sit at these levels has learned nothing through the DINO head.
 */
export function uniformDinoLevels(
  nLocal: number,
  k: number,
): { dino_local_crops_loss?: number; dino_global_crops_loss: number } {
  const terms = lossTermCount(nLocal);
  return {
    ...(nLocal > 0
      ? { dino_local_crops_loss: (N_GLOBAL_CROPS * nLocal * Math.log(k)) / terms }
      : {}),
    dino_global_crops_loss: (GLOBAL_LOSS_SCALE * Math.log(k)) / terms,
  };
}

/** The center state of softmax centering (absent for Sinkhorn-Knopp or a term that is off). */
export interface Centers {
  readonly dino?: Tensor; // [1, K]
  readonly ibot?: Tensor; // [1, 1, Ki]
}

export interface TeacherTargets {
  /** Teacher probabilities for the global CLS tokens, crops swapped: [2B, K] (DINO on). */
  readonly dinoProbs?: Tensor;
  /** Teacher probabilities for the masked patch tokens: [U, Ki], padding rows weigh 0 (iBOT on). */
  readonly ibotProbs?: Tensor;
  readonly newCenters: Centers;
}

export interface StudentOutputs {
  readonly localLogits?: Tensor; // [nL*B, K]
  readonly globalLogits?: Tensor; // [2B, K]
  readonly patchLogits?: Tensor; // [U, Ki]
  readonly globalCls: Tensor; // [2B, D], backbone output for KoLeo
}

/** The reported loss terms, named as the official loss_dict. */
export type LossName =
  | "dino_local_crops_loss"
  | "dino_global_crops_loss"
  | "koleo_loss"
  | "ibot_loss"
  | "total";

export interface SslLosses {
  readonly total: Tensor;
  /** The terms that run, as the official loss_dict reports them, plus `total`. */
  readonly reported: Readonly<Partial<Record<LossName, Tensor>>>;
}

/** get_teacher_output: teacher probabilities after centering, and the updated centers. */
export function teacherTargets(
  teacher: SslModel,
  b: StepBatch,
  temp: Tensor,
  c: StepConfig,
  centers: Centers,
): TeacherTargets {
  const on = lossTerms(c);
  const f = withScope("backbone", () => teacher.backbone.forwardFeatures(b.globalCrops));
  let dinoProbs: Tensor | undefined;
  let ibotProbs: Tensor | undefined;
  const newCenters: { dino?: Tensor; ibot?: Tensor } = {};
  if (on.dino) {
    const [a, bb] = split(f.clsToken, 0, [c.batch, c.batch]);
    const cls = concat([bb!, a!], 0); // crop A is matched to teacher crop B
    const logits = stopGradient(
      withScope("heads.dino_head", () => dinoHeadOf(teacher).forward(cls)),
    );
    if (c.centering === "sinkhorn_knopp") dinoProbs = sinkhornKnopp(logits, temp);
    else {
      const center = required(centers.dino, "dino center");
      dinoProbs = softmaxCenter(logits, center, temp);
      newCenters.dino = centerUpdate(center, mean(logits, 0, { keepDims: true }), c.centerMomentum);
    }
  }
  if (on.ibot) {
    const { head, scope } = patchHeadOf(teacher);
    const masked = maskedPatches(f.patchTokens, b.maskIndices);
    const logits = stopGradient(withScope(`heads.${scope}`, () => head.forward(masked)));
    if (c.centering === "sinkhorn_knopp")
      ibotProbs = sinkhornKnopp(logits, temp, { valid: b.maskValid, count: b.nMasked });
    else {
      const center = required(centers.ibot, "ibot center");
      const ki = logits.shape[1]!;
      ibotProbs = softmaxCenter(logits, reshape(center, [1, ki]), temp);
      newCenters.ibot = centerUpdate(
        center,
        maskedRowMean(logits, b.maskValid, b.nMasked),
        c.centerMomentum,
      );
    }
  }
  return { ...(dinoProbs ? { dinoProbs } : {}), ...(ibotProbs ? { ibotProbs } : {}), newCenters };
}

/**
 * The student on [masked global crops, local crops], then the heads. One drop plan: the crops
 * are packed into one forward pass; one plan per crop group: a forward pass per group.
 */
export function studentOutputs(
  student: SslModel,
  b: StepBatch,
  drops: readonly (readonly BlockDrop[])[],
  c: StepConfig,
): StudentOutputs {
  const on = lossTerms(c);
  const crops = [
    { images: b.globalCrops, masks: b.masks },
    ...(b.localCrops && on.dino ? [{ images: b.localCrops }] : []),
  ];
  const [g, l] = withScope("backbone", () =>
    drops.length === 1
      ? student.backbone.forwardFeaturesList(crops, drops[0])
      : crops.map((crop, i) => student.backbone.forwardFeaturesList([crop], drops[i])[0]!),
  );
  const out: { -readonly [K in keyof StudentOutputs]: StudentOutputs[K] } = {
    globalCls: g!.clsToken,
  };
  if (on.dino) {
    const head = dinoHeadOf(student);
    out.globalLogits = withScope("heads.dino_head", () => head.forward(g!.clsToken));
    if (l) out.localLogits = withScope("heads.dino_head", () => head.forward(l.clsToken));
  }
  if (on.ibot) {
    const { head, scope } = patchHeadOf(student);
    const masked = maskedPatches(g!.patchTokens, b.maskIndices);
    out.patchLogits = withScope(`heads.${scope}`, () => head.forward(masked));
  }
  return out;
}

/** DINO local + global, KoLeo and iBOT, scaled exactly as forward_backward. */
export function sslLosses(
  s: StudentOutputs,
  t: TeacherTargets,
  b: StepBatch,
  c: StepConfig,
): SslLosses {
  const terms = lossTermCount(c.nLocal);
  const reported: Partial<Record<LossName, Tensor>> = {};
  const parts: Tensor[] = [];
  if (t.dinoProbs && s.globalLogits) {
    if (s.localLogits) {
      // sum over local chunks i and teacher crops j of CE(s_i, t_j) = CE against t_0 + t_1.
      const k = t.dinoProbs.shape[1]!;
      const [t0, t1] = split(t.dinoProbs, 0, [c.batch, c.batch]);
      const lsm = reshape(logSoftmax(div(s.localLogits, c.studentTemp), -1), [
        c.nLocal,
        c.batch,
        k,
      ]);
      const local = div(neg(div(sum(mul(lsm, add(t0!, t1!))), c.batch)), terms);
      reported.dino_local_crops_loss = local;
      parts.push(mul(local, c.dinoLossWeight));
    }
    const global = div(
      mul(dinoCrossEntropy(s.globalLogits, t.dinoProbs, c.studentTemp), GLOBAL_LOSS_SCALE),
      terms,
    );
    reported.dino_global_crops_loss = global;
    parts.push(mul(global, c.dinoLossWeight));
    if (lossTerms(c).koleo) {
      // KoLeo within each global crop, never between the two crops of one image.
      const [g0, g1] = split(s.globalCls, 0, [c.batch, c.batch]);
      const koleo = mul(add(koleoLoss(g0!), koleoLoss(g1!)), c.koleoLossWeight);
      reported.koleo_loss = div(koleo, DISPLAY_SCALE);
      parts.push(koleo);
    }
  }
  if (t.ibotProbs && s.patchLogits) {
    const ibot = mul(
      ibotMaskedLoss(s.patchLogits, t.ibotProbs, b.maskWeights, 2 * c.batch, c.studentTemp),
      GLOBAL_LOSS_SCALE * IBOT_LOSS_SCALE,
    );
    reported.ibot_loss = div(ibot, DISPLAY_SCALE);
    parts.push(mul(ibot, c.ibotLossWeight));
  }
  const total = parts.reduce((acc, p) => add(acc, p));
  reported.total = total;
  return { total, reported };
}

/** Rows of the flattened patch tokens at the (padded) masked indices: [U, D]. */
function maskedPatches(patchTokens: Tensor, maskIndices: Tensor): Tensor {
  const [b, p, d] = patchTokens.shape as [number, number, number];
  return gather(reshape(patchTokens, [b * p, d]), maskIndices, 0);
}

function dinoHeadOf(m: SslModel) {
  return required(m.dinoHead, "DINO head");
}

function required<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`the step has no ${what} for a loss term that is on`);
  return v;
}
