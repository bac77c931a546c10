// `--recompute` and `--mem-arena` of `dinov2 train` / `distill`: how the training step is computed
// (activation recomputation of the student's blocks, onnxruntime's CPU memory arena) when the
// provider's default (implFor / trainRuntimeOptions, chosen from `npm run bench -- train-step`)
// does not suit a model. Every choice gives the same numbers; they trade memory for speed.
import type { Provider } from "../runtime/index.js";
import { implFor, keepingAll, type StepImpl } from "../train/step-config.js";
import { choiceFlag } from "./flag-values.js";
import { UsageError } from "./usage-error.js";

export const STEP_FLAGS = {
  recompute: {
    type: "string",
    valueName: "GIB|none",
    description:
      "GiB of student block activations kept for the backward pass; the other blocks are recomputed (0: every block, the CPU default; none: keep all, faster where memory allows)",
  },
  "mem-arena": {
    type: "string",
    valueName: "on|off",
    description:
      "onnxruntime's CPU memory arena (CPU default off: lowest peak memory; on is faster, most for small models)",
  },
} as const;

export function stepChoicesFromFlags(
  v: { readonly recompute?: string | undefined; readonly "mem-arena"?: string | undefined },
  provider: Provider,
): { impl?: StepImpl; memArena?: boolean } {
  const out: { impl?: StepImpl; memArena?: boolean } = {};
  if (v.recompute !== undefined) {
    const base = keepingAll(implFor(provider));
    if (v.recompute === "none") out.impl = base;
    else {
      const gib = Number(v.recompute);
      if (v.recompute.trim() === "" || !Number.isFinite(gib) || gib < 0)
        throw new UsageError(
          `--recompute: "${v.recompute}" is neither a GiB figure ≥ 0 nor "none"`,
          {
            flag: "--recompute",
            hint: "e.g. --recompute 0 (recompute every block), --recompute 2, --recompute none",
          },
        );
      out.impl = { ...base, recomputeBudgetGiB: gib };
    }
  }
  if (v["mem-arena"] !== undefined)
    out.memArena = choiceFlag(v["mem-arena"], "mem-arena", ["on", "off"] as const) === "on";
  return out;
}
