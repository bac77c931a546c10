// Distillation (paper §5): a frozen, larger network teaches a student through the pretraining
// iteration itself. What differs is a config section (`distillation.*`, the paper's values as
// defaults): the teacher is frozen with its own heads, the student keeps a spare EMA that is the
// result, there is no masking and no stochastic depth on the student, and iBOT runs on every
// patch token of both global crops. Everything else is the pretraining step, reused.
import type { ResolvedConfig } from "../config/index.js";
import type { SslBatch } from "../data/collate.js";
import type { SslNetwork } from "./ssl-teacher.js";
import type { StepConfig } from "./step-config.js";

export interface DistillOptions {
  /** iBOT on every patch token of both global crops (no masking). */
  readonly ibotAllPatches: boolean;
  /** Keep a spare EMA of the student as the final model. */
  readonly studentEma: boolean;
  /** Stochastic depth rate of the student (the paper: none). */
  readonly studentDropPathRate: number;
}

export function distillOptionsFrom({ cfg }: ResolvedConfig): DistillOptions {
  const d = cfg.distillation;
  return {
    ibotAllPatches: d.ibot_all_patches,
    studentEma: d.student_ema,
    studentDropPathRate: d.student_drop_path_rate,
  };
}

/**
 * The pretraining step of `c` turned into a distillation step: the student's heads are shaped
 * by the teacher's prototypes, the teacher is frozen. Refuses what cannot share crops.
 */
export function distillStepConfig(
  c: StepConfig,
  teacher: SslNetwork,
  o: DistillOptions,
): StepConfig {
  const s = c.arch.backbone;
  const t = teacher.arch.backbone;
  if (s.patchSize !== t.patchSize)
    throw new Error(
      `the teacher's patch size is ${t.patchSize} (${teacher.file}), the student's ${s.patchSize} (student.patch_size): their patch tokens cannot be matched`,
    );
  const tDino = teacher.arch.dinoHead!;
  const tIbot = teacher.arch.ibotHead;
  const sHead = c.arch.dinoHead ?? c.arch.ibotHead!;
  const head = (outDim: number) => ({ ...sHead, inDim: s.embedDim, outDim });
  const patchesPerCrop = (c.globalSize / s.patchSize) ** 2;
  return {
    ...c,
    arch: {
      backbone: s,
      ...(c.dinoLossWeight > 0 || !tIbot ? { dinoHead: head(tDino.outDim) } : {}),
      ...(tIbot && c.ibotLossWeight > 0 ? { ibotHead: head(tIbot.outDim) } : {}),
    },
    teacher: { kind: "frozen", arch: teacher.arch },
    studentEma: o.studentEma,
    dropPathRate: o.studentDropPathRate,
    upperbound: o.ibotAllPatches ? 2 * c.batch * patchesPerCrop : c.upperbound,
  };
}

/** No masking, and every patch of both global crops in the iBOT loss (weight 1/P each). */
export function allPatchesBatch(b: SslBatch): SslBatch {
  const n = b.nGlobalCrops * b.batchSize * b.nPatches;
  return {
    ...b,
    masks: new Uint8Array(b.masks.length),
    maskIndices: Int32Array.from({ length: n }, (_, i) => i),
    maskWeights: new Float32Array(n).fill(1 / b.nPatches),
    nMaskedPatches: n,
    upperbound: n,
  };
}
