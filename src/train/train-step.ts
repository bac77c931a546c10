// ONE graph per training iteration: teacher targets, student outputs, the DINO/iBOT/KoLeo losses,
// backward, per-submodule gradient clipping, AdamW with the official parameter groups, the EMA
// teacher and the center updates. Port of SSLMetaArch.forward_backward and the loop body of
// dinov2/train/train.py; all state enters and leaves as graph inputs and outputs.
import { grad, input, mul, type Tensor, withScope } from "../core/index.js";
import { bindInputs } from "../nn/module.js";
import { type DropPlan, dropPathRates, dropPlan } from "./drop-path.js";
import { adamwUpdate } from "./optimizer.js";
import { paramMultipliers } from "./param-groups.js";
import { type SslLosses, sslLosses, studentOutputs, teacherTargets } from "./ssl-losses.js";
import { type SslArch, SslModel, submoduleOf } from "./ssl-model.js";
import { clipByNorm, emaUpdate } from "./updates.js";

export interface StepConfig {
  readonly arch: SslArch;
  readonly batch: number;
  readonly globalSize: number;
  readonly localSize: number;
  readonly nLocal: number;
  /** Size of the padded masked-token buffer (the official collate's upperbound). */
  readonly upperbound: number;
  readonly centering: "centering" | "sinkhorn_knopp";
  readonly studentTemp: number;
  readonly centerMomentum: number;
  readonly dinoLossWeight: number;
  readonly koleoLossWeight: number;
  readonly ibotLossWeight: number;
  readonly clipGrad: number;
  readonly adamwBetas: readonly [number, number];
  readonly adamwEps: number;
  readonly layerwiseDecay: number;
  readonly patchEmbedLrMult: number;
  readonly dropPathRate: number;
  readonly dropPathUniform: boolean;
  /**
   * The paper's efficient implementation (default true): crops packed through the linear layers
   * and stochastic depth on the kept samples only. false: one forward per crop size and masked
   * drop path, the plain formulation (for benchmarks and equivalence checks).
   */
  readonly efficient?: boolean;
  /** Overrides `efficient` for sequence packing alone (benchmarks measure each technique). */
  readonly packing?: boolean;
  /** Overrides `efficient` for stochastic depth alone: kept-subset rows or a per-row mask. */
  readonly dropPathMode?: "efficient" | "mask";
  /** Also output the raw gradients (`grad.student.*`), e.g. for parity checks. */
  readonly emitGrads?: boolean;
}

export interface TrainStepGraph {
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Parameter keys (`backbone.cls_token`, ...), in state_dict order. */
  readonly paramKeys: readonly string[];
  readonly drop: DropPlan;
  readonly student: SslModel;
}

/** Names of the loss outputs, as the official code reports them. */
export const LOSS_NAMES = [
  "dino_local_crops_loss",
  "dino_global_crops_loss",
  "koleo_loss",
  "ibot_loss",
  "total",
] as const;

/** Builds the whole iteration. Feed names: see `stepInputNames` in train/step-state.ts. */
export function buildTrainStep(c: StepConfig): TrainStepGraph {
  const student = new SslModel(c.arch);
  const teacher = new SslModel(c.arch);
  const s = withScope("student", () => bindInputs(student, "student."));
  const t = withScope("teacher", () => bindInputs(teacher, "teacher."));
  const keys = [...s.keys()];
  const batch = stepBatchInputs(c);
  const scalars = {
    lr: input("lr", []),
    lastLayerLr: input("lastLayerLr", []),
    wd: input("wd", []),
    momentum: input("momentum", []),
    teacherTemp: input("teacherTemp", []),
    bc1: input("bc1", []),
    bc2: input("bc2", []),
  };
  const p = c.arch.backbone.patchSize;
  const groups = [
    { batch: 2 * c.batch, tokens: tokensPerCrop(c, c.globalSize / p) },
    ...(c.nLocal > 0
      ? [{ batch: c.nLocal * c.batch, tokens: tokensPerCrop(c, c.localSize / p) }]
      : []),
  ];
  const rates = dropPathRates(c.dropPathRate, c.arch.backbone.depth, c.dropPathUniform);
  const packing = c.packing ?? c.efficient ?? true;
  const mode = c.dropPathMode ?? ((c.efficient ?? true) ? "efficient" : "mask");
  const plans = packing
    ? [dropPlan(groups, rates, { mode })]
    : groups.map((g, i) => dropPlan([g], rates, { mode, prefix: `drop${i}` }));
  const drop: DropPlan = { blocks: plans[0]!.blocks, inputs: plans.flatMap((p) => p.inputs) };
  const targets = withScope("teacher", () =>
    teacherTargets(teacher, batch, scalars.teacherTemp, c),
  );
  const outs = withScope("student", () =>
    studentOutputs(
      student,
      batch,
      plans.map((p) => p.blocks),
    ),
  );
  const losses: SslLosses = withScope("loss", () => sslLosses(outs, targets, batch, c));
  const grads = grad(
    losses.total,
    keys.map((k) => s.get(k)!),
  );
  const outputs: Record<string, Tensor> = {};
  for (const n of LOSS_NAMES) outputs[`loss.${n}`] = losses.reported[n];
  const clipped = withScope("clip", () => clipPerSubmodule(keys, grads, c.clipGrad));
  keys.forEach((k, i) => {
    if (c.emitGrads) outputs[`grad.student.${k}`] = grads[i]!;
    const m = paramMultipliers(k, {
      numLayers: c.arch.backbone.depth,
      layerwiseDecay: c.layerwiseDecay,
      patchEmbedLrMult: c.patchEmbedLrMult,
    });
    const adam = withScope(`adamw.${k}`, () =>
      adamwUpdate(
        {
          param: s.get(k)!,
          m: input(`adam.m.${k}`, s.get(k)!.shape),
          v: input(`adam.v.${k}`, s.get(k)!.shape),
        },
        clipped[i]!,
        {
          lr: mulScalar(m.isLastLayer ? scalars.lastLayerLr : scalars.lr, m.lrMultiplier),
          weightDecay: mulScalar(scalars.wd, m.wdMultiplier),
          beta1: c.adamwBetas[0],
          beta2: c.adamwBetas[1],
          eps: c.adamwEps,
          biasCorrection1: scalars.bc1,
          biasCorrection2: scalars.bc2,
        },
      ),
    );
    outputs[`new.student.${k}`] = adam.param;
    outputs[`new.adam.m.${k}`] = adam.m;
    outputs[`new.adam.v.${k}`] = adam.v;
    outputs[`new.teacher.${k}`] = withScope(`ema.${k}`, () =>
      emaUpdate(t.get(k)!, adam.param, scalars.momentum),
    );
  });
  outputs["new.dinoCenter"] = targets.newDinoCenter;
  if (targets.newIbotCenter) outputs["new.ibotCenter"] = targets.newIbotCenter;
  return { outputs, paramKeys: keys, drop, student };
}

function tokensPerCrop(c: StepConfig, grid: number): number {
  return 1 + c.arch.backbone.numRegisterTokens + grid * grid;
}

export interface StepBatch {
  readonly globalCrops: Tensor; // [2B, 3, G, G], crop-major
  readonly localCrops: Tensor | undefined; // [nL*B, 3, L, L]
  readonly masks: Tensor; // bool [2B, P]
  readonly maskIndices: Tensor; // int64 [U], padded
  readonly maskWeights: Tensor; // [U], 0 on padding
  readonly maskValid: Tensor; // [U], 1 on the n masked rows
  readonly nMasked: Tensor; // scalar
}

function stepBatchInputs(c: StepConfig): StepBatch {
  const p = c.arch.backbone.patchSize;
  const gp = (c.globalSize / p) ** 2;
  return {
    globalCrops: input("globalCrops", [2 * c.batch, 3, c.globalSize, c.globalSize]),
    localCrops:
      c.nLocal > 0
        ? input("localCrops", [c.nLocal * c.batch, 3, c.localSize, c.localSize])
        : undefined,
    masks: input("masks", [2 * c.batch, gp], "bool"),
    maskIndices: input("maskIndices", [c.upperbound], "int64"),
    maskWeights: input("maskWeights", [c.upperbound]),
    maskValid: input("maskValid", [c.upperbound]),
    nMasked: input("nMasked", []),
  };
}

function clipPerSubmodule(
  keys: readonly string[],
  grads: readonly Tensor[],
  maxNorm: number,
): Tensor[] {
  const subs = [...new Set(keys.map(submoduleOf))];
  const out = [...grads];
  for (const sub of subs) {
    const idx = keys.flatMap((k, i) => (submoduleOf(k) === sub ? [i] : []));
    const clippedGrads = withScope(sub, () =>
      clipByNorm(
        idx.map((i) => grads[i]!),
        maxNorm,
      ),
    );
    idx.forEach((i, j) => {
      out[i] = clippedGrads[j]!;
    });
  }
  return out;
}

function mulScalar(t: Tensor, factor: number): Tensor | number {
  if (factor === 0) return 0;
  return factor === 1 ? t : mul(t, factor);
}
