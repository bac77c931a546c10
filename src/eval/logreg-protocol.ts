// The official logistic-regression protocol (dinov2/eval/log_regression.py): raw CLS features in
// float64; C swept over 10 ** linspace(-6, 5, 45), each fitted on 90% of train and scored on a
// random 10% of it (seed 0); the best C (first maximum of top-1) is refitted on all of train and
// scored on val. Our seeded RNG stands in for torch.manual_seed(0) + randperm: same rule, other rows.
import { ShapeError } from "../core/index.js";
import { createRng } from "../data/rng.js";
import type { Runtime } from "../runtime/index.js";
import { fitLogReg, type LogRegData, type LogRegModel, logRegScores } from "./logreg.js";
import { topKAccuracy } from "./metrics.js";

/** 10 ** linspace(-6, 5, 45), as torch computes it in float32 then .item(). */
export const LOGREG_C_VALUES: readonly number[] = Array.from({ length: 45 }, (_, i) =>
  Math.fround(10 ** Math.fround(-6 + (11 * i) / 44)),
);

export interface LogRegProtocolOptions {
  readonly numClasses: number;
  readonly cValues?: readonly number[];
  readonly maxIter?: number;
  readonly tol?: number;
  /** Called after each C of the sweep. */
  readonly onC?: (done: number, c: number, top1: number) => void;
}

export interface SweepPoint {
  readonly C: number;
  /** Top-1 on the held-out 10% of train. */
  readonly top1: number;
  readonly iterations: number;
  readonly converged: boolean;
}

export interface LogRegProtocolResult {
  readonly bestC: number;
  readonly sweep: readonly SweepPoint[];
  /** Val top-1 / top-5 (0..1) of the final model (best C, fitted on all of train). */
  readonly top1: number;
  readonly top5: number;
  readonly model: LogRegModel;
  readonly finetuneRows: number;
}

/** Runs the sweep and the final fit. */
export async function logRegProtocol(
  runtime: Runtime,
  train: LogRegData,
  val: LogRegData,
  opts: LogRegProtocolOptions,
): Promise<LogRegProtocolResult> {
  const n = train.labels.length;
  const nFine = Math.floor(n / 10);
  if (nFine < 1 || val.dim !== train.dim) {
    throw new ShapeError(
      "logRegProtocol",
      `need ≥ 10 train rows (10% choose C) and one feature dim; got ${n} rows, dims ${train.dim} / ${val.dim}`,
    );
  }
  const perm = createRng(0).split("logreg-finetune").permutation(n);
  const fine = take(train, perm.subarray(0, nFine));
  const rest = take(train, perm.subarray(nFine));
  const K = opts.numClasses;
  const fitOpts = { numClasses: K, maxIter: opts.maxIter ?? 1000, tol: opts.tol ?? 1e-4 };
  const sweep: SweepPoint[] = [];
  let best = 0;
  for (const C of opts.cValues ?? LOGREG_C_VALUES) {
    const m = await fitLogReg(runtime, rest, { ...fitOpts, C });
    const top1 = topKAccuracy(logRegScores(m, fine.features), fine.labels, K, 1);
    sweep.push({ C, top1, iterations: m.iterations, converged: m.converged });
    if (top1 > sweep[best]!.top1) best = sweep.length - 1;
    opts.onC?.(sweep.length, C, top1);
  }
  const bestC = sweep[best]!.C;
  const model = await fitLogReg(runtime, train, { ...fitOpts, C: bestC });
  const scores = logRegScores(model, val.features);
  return {
    bestC,
    sweep,
    top1: topKAccuracy(scores, val.labels, K, 1),
    top5: topKAccuracy(scores, val.labels, K, 5),
    model,
    finetuneRows: nFine,
  };
}

function take(d: LogRegData, rows: Int32Array): LogRegData {
  const features = new Float64Array(rows.length * d.dim);
  rows.forEach((r, i) => {
    for (let j = 0; j < d.dim; j++) features[i * d.dim + j] = d.features[r * d.dim + j]!;
  });
  return { features, labels: Int32Array.from(rows, (r) => d.labels[r]!), dim: d.dim };
}
