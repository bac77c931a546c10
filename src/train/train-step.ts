// ONE graph per training iteration, read like SSLMetaArch: `forwardBackward` (teacher targets,
// student outputs, the DINO/iBOT/KoLeo losses, gradients) and `optimizerStep` (per-submodule
// clipping, AdamW with the official parameter groups, the EMA teacher, the center updates).
// Every input and output is declared in a StepSignature (step-signature.ts).
import { grad, mul, type Tensor, withScope } from "../core/index.js";
import { namedParams } from "../nn/module.js";
import { type DropPlan, dropPathRates, dropPlan } from "./drop-path.js";
import { adamwUpdate } from "./optimizer.js";
import { paramMultipliers } from "./param-groups.js";
import {
  type Centers,
  N_GLOBAL_CROPS,
  type SslLosses,
  sslLosses,
  studentOutputs,
  teacherTargets,
} from "./ssl-losses.js";
import { SslModel, submoduleOf } from "./ssl-model.js";
import { declareBatch, declareScalars, type StepBatch, type StepScalars } from "./step-batch.js";
import { lossTerms, OFFICIAL_IMPL, type StepConfig } from "./step-config.js";
import { type StateInit, StepSignature } from "./step-signature.js";
import { clipByNorm, emaUpdate } from "./updates.js";

export interface TrainStepGraph {
  readonly config: StepConfig;
  /** Every input and output of the graph, with its role; state paired with its update. */
  readonly signature: StepSignature;
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Student parameter keys (`backbone.cls_token`, ...), in state_dict order. */
  readonly paramKeys: readonly string[];
  readonly drop: DropPlan;
  readonly student: SslModel;
  readonly teacher: SslModel;
}

/** State name prefixes: the training state is one flat map of named tensors. */
export const STATE = {
  student: "student.",
  teacher: "teacher.",
  adamM: "adam.m.",
  adamV: "adam.v.",
  studentEma: "student_ema.",
  dinoCenter: "dinoCenter",
  ibotCenter: "ibotCenter",
} as const;

export function buildTrainStep(c: StepConfig): TrainStepGraph {
  const sig = new StepSignature();
  const teacherSpec = c.teacher ?? { kind: "ema" };
  const frozenTeacher = teacherSpec.kind === "frozen";
  const recompute = c.impl?.recomputeBudgetGiB;
  const student = new SslModel(
    recompute === undefined
      ? c.arch
      : { ...c.arch, backbone: { ...c.arch.backbone, recomputeBudgetGiB: recompute } },
  );
  const teacher = new SslModel(frozenTeacher ? teacherSpec.arch : c.arch);
  const s = withScope("student", () =>
    bindState(sig, student, STATE.student, (key) => ({ kind: "param", key })),
  );
  withScope("teacher", () =>
    bindState(
      sig,
      teacher,
      STATE.teacher,
      (key): StateInit => (frozenTeacher ? { kind: "given", key } : { kind: "param", key }),
      frozenTeacher,
    ),
  );
  const keys = [...s.keys()];
  const scalars = declareScalars(sig);
  const batch = declareBatch(sig, c, lossTerms(c).dino);
  const centers = declareCenters(sig, c, teacher);
  const fb = forwardBackward(c, student, teacher, [...s.values()], batch, scalars, centers, sig);
  for (const [name, t] of Object.entries(fb.losses.reported)) sig.output("loss", `loss.${name}`, t);
  if (c.emitGrads)
    for (const [i, k] of keys.entries()) sig.output("grad", `grad.student.${k}`, fb.grads[i]!);
  optimizerStep(c, sig, keys, s, fb.grads, scalars, frozenTeacher);
  if (centers.dino) sig.update(STATE.dinoCenter, fb.newCenters.dino!);
  if (centers.ibot) sig.update(STATE.ibotCenter, fb.newCenters.ibot!);
  return {
    config: c,
    signature: sig,
    outputs: sig.seal(),
    paramKeys: keys,
    drop: fb.drop,
    student,
    teacher,
  };
}

interface ForwardBackward {
  readonly losses: SslLosses;
  readonly grads: Tensor[];
  readonly newCenters: Centers;
  readonly drop: DropPlan;
}

/** SSLMetaArch.forward_backward: teacher targets, student outputs, losses, gradients. */
function forwardBackward(
  c: StepConfig,
  student: SslModel,
  teacher: SslModel,
  params: readonly Tensor[],
  batch: StepBatch,
  scalars: StepScalars,
  centers: Centers,
  sig: StepSignature,
): ForwardBackward {
  const drop = studentDropPlan(c, sig, batch.localCrops !== undefined);
  const targets = withScope("teacher", () =>
    teacherTargets(teacher, batch, scalars.teacherTemp, c, centers),
  );
  const outs = withScope("student", () => studentOutputs(student, batch, drop.perForward, c));
  const losses = withScope("loss", () => sslLosses(outs, targets, batch, c));
  const grads = grad(losses.total, params);
  return { losses, grads, newCenters: targets.newCenters, drop: drop.plan };
}

/** The optimizer part of the loop body: clip, AdamW, EMA teacher (and the student EMA). */
function optimizerStep(
  c: StepConfig,
  sig: StepSignature,
  keys: readonly string[],
  params: ReadonlyMap<string, Tensor>,
  grads: readonly Tensor[],
  scalars: StepScalars,
  frozenTeacher: boolean,
): void {
  const clipped =
    c.clipGrad > 0 ? withScope("clip", () => clipPerSubmodule(keys, grads, c.clipGrad)) : grads;
  keys.forEach((k, i) => {
    const p = params.get(k)!;
    const m = paramMultipliers(k, {
      numLayers: c.arch.backbone.depth,
      layerwiseDecay: c.layerwiseDecay,
      patchEmbedLrMult: c.patchEmbedLrMult,
    });
    const zeros: StateInit = { kind: "zeros" };
    const frozen = (c.freezeBackboneIters ?? 0) > 0 && submoduleOf(k) === "backbone";
    const lr = mulScalar(m.isLastLayer ? scalars.lastLayerLr : scalars.lr, m.lrMultiplier);
    const wd = mulScalar(scalars.wd, m.wdMultiplier);
    const adam = withScope(`adamw.${k}`, () =>
      adamwUpdate(
        {
          param: p,
          m: sig.state(STATE.adamM + k, p.shape, zeros),
          v: sig.state(STATE.adamV + k, p.shape, zeros),
        },
        clipped[i]!,
        {
          lr: frozen ? times(lr, scalars.backboneLrScale) : lr,
          weightDecay: wd,
          beta1: c.adamwBetas[0],
          beta2: c.adamwBetas[1],
          eps: c.adamwEps,
          biasCorrection1: scalars.bc1,
          biasCorrection2: scalars.bc2,
        },
      ),
    );
    sig.update(STATE.student + k, adam.param);
    sig.update(STATE.adamM + k, adam.m);
    sig.update(STATE.adamV + k, adam.v);
    if (!frozenTeacher) {
      sig.update(
        STATE.teacher + k,
        withScope(`ema.${k}`, () =>
          emaUpdate(sig.tensorOf(STATE.teacher + k), adam.param, scalars.momentum),
        ),
      );
    }
    if (c.studentEma) {
      const ema = sig.state(STATE.studentEma + k, p.shape, { kind: "param", key: k });
      sig.update(
        STATE.studentEma + k,
        withScope(`student_ema.${k}`, () => emaUpdate(ema, adam.param, scalars.momentum)),
      );
    }
  });
}

/** Binds every parameter of `model` to a state input `prefix + key`; returns them by key. */
function bindState(
  sig: StepSignature,
  model: SslModel,
  prefix: string,
  init: (key: string) => StateInit,
  frozen = false,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [key, p] of namedParams(model)) {
    const t = sig.state(prefix + key, p.shape, init(key), { frozen });
    p.bind(t);
    out.set(key, t);
  }
  return out;
}

/** Softmax centering keeps an EMA center per loss term that is on; Sinkhorn-Knopp keeps none. */
function declareCenters(sig: StepSignature, c: StepConfig, teacher: SslModel): Centers {
  if (c.centering !== "centering") return {};
  const on = lossTerms(c);
  const zeros: StateInit = { kind: "zeros" };
  const k = teacher.arch.dinoHead?.outDim;
  const ki = (teacher.arch.ibotHead ?? teacher.arch.dinoHead)?.outDim;
  return {
    ...(on.dino && k ? { dino: sig.state(STATE.dinoCenter, [1, k], zeros) } : {}),
    ...(on.ibot && ki ? { ibot: sig.state(STATE.ibotCenter, [1, 1, ki], zeros) } : {}),
  };
}

/**
 * The student's stochastic-depth plan: one plan over the packed crop groups, or one per group
 * (a forward pass per crop size) without packing.
 */
function studentDropPlan(
  c: StepConfig,
  sig: StepSignature,
  useLocal: boolean,
): { plan: DropPlan; perForward: DropPlan["blocks"][] } {
  const impl = c.impl ?? OFFICIAL_IMPL;
  const p = c.arch.backbone.patchSize;
  const tokens = (grid: number) => 1 + c.arch.backbone.numRegisterTokens + grid * grid;
  const groups = [
    { batch: N_GLOBAL_CROPS * c.batch, tokens: tokens(c.globalSize / p) },
    ...(useLocal ? [{ batch: c.nLocal * c.batch, tokens: tokens(c.localSize / p) }] : []),
  ];
  const rates = dropPathRates(c.dropPathRate, c.arch.backbone.depth, c.dropPathUniform);
  const declare = (name: string, shape: readonly number[], dtype?: "int64") =>
    sig.input("drop-path", name, shape, dtype);
  const plans = impl.packing
    ? [dropPlan(groups, rates, { mode: impl.dropPath, declare })]
    : groups.map((g, i) =>
        dropPlan([g], rates, { mode: impl.dropPath, prefix: `drop${i}`, declare }),
      );
  return {
    plan: { blocks: plans[0]!.blocks, inputs: plans.flatMap((q) => q.inputs) },
    perForward: plans.map((q) => q.blocks),
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

function times(a: Tensor | number, b: Tensor): Tensor | number {
  return a === 0 ? 0 : mul(b, a);
}

function mulScalar(t: Tensor, factor: number): Tensor | number {
  if (factor === 0) return 0;
  return factor === 1 ? t : mul(t, factor);
}
