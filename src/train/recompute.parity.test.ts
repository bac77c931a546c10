// Activation recomputation in the whole training iteration: with every student block recomputed
// in the backward pass (core/checkpoint.ts), each output of the step (losses, raw gradients,
// weights after AdamW, EMA teacher, centers) equals the plain step's, for every ssl_step_*
// fixture configuration and its inputs, with drop path 0.3 in both stochastic-depth forms.
import { describe, expect, it } from "vitest";
import { readJson, setsWith } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import { type HostTensor, toNumbers, topoSort } from "../core/index.js";
import type { SslBatch } from "../data/collate.js";
import { createRng } from "../data/rng.js";
import { readSafetensorsFile } from "../io/index.js";
import { initialState, stepFeeds } from "./state.js";
import {
  type OfficialStepKeys,
  type StepConfig,
  type StepImpl,
  stepConfigFromOfficial,
} from "./step-config.js";
import { buildTrainStep, STATE } from "./train-step.js";

type Keys = OfficialStepKeys & {
  lr: number;
  last_layer_lr: number;
  wd: number;
  momentum: number;
  teacher_temp: number;
};

async function runStep(
  cfg: StepConfig,
  fx: ReadonlyMap<string, HostTensor>,
  k: Keys,
): Promise<{ out: Record<string, HostTensor>; replayed: number }> {
  const step = buildTrainStep(cfg);
  const replayed = topoSort(Object.values(step.outputs)).filter((t) =>
    t.scope.startsWith("recompute."),
  ).length;
  const exe = await (await testRuntime()).compile(step.outputs);
  const student = new Map(
    [...fx]
      .filter(([key]) => key.startsWith(STATE.student))
      .map(([key, t]) => [key.slice(STATE.student.length), t]),
  );
  const feeds = stepFeeds(
    step,
    initialState(step, { student }),
    fixtureBatch(fx, k),
    {
      lr: k.lr,
      lastLayerLr: k.last_layer_lr,
      wd: k.wd,
      momentum: k.momentum,
      teacherTemp: k.teacher_temp,
    },
    createRng(5), // the same drop-path draws for both steps
  );
  return { out: await exe.run(feeds), replayed };
}

function fixtureBatch(fx: ReadonlyMap<string, HostTensor>, k: Keys): SslBatch {
  const g = fx.get("in.global_crops")!;
  const idx = fx.get("in.mask_indices")!;
  return {
    batchSize: k.batch_size,
    nGlobalCrops: 2,
    nLocalCrops: k.local_crops_number,
    globalCropsSize: k.global_crops_size,
    localCropsSize: k.local_crops_size,
    nPatches: (g.shape[2]! / k.patch_size) * (g.shape[3]! / k.patch_size),
    globalCrops: g.data as Float32Array,
    localCrops: (fx.get("in.local_crops")?.data as Float32Array | undefined) ?? new Float32Array(0),
    masks: Uint8Array.from(toNumbers(fx.get("in.masks")!)),
    maskIndices: Int32Array.from(toNumbers(idx)),
    maskWeights: Float32Array.from(toNumbers(fx.get("in.masks_weight")!)),
    nMaskedPatches: idx.data.length,
    upperbound: k.upperbound,
    labels: new Int32Array(k.batch_size).fill(-1),
  };
}

const IMPLS: readonly StepImpl[] = [
  { packing: true, dropPath: "efficient" },
  { packing: false, dropPath: "mask" },
];

describe.each(setsWith("ssl_step_*.safetensors"))(
  "recomputed training iteration, $path",
  ({ path }) => {
    it.each(IMPLS)(
      "packing $packing, drop path $dropPath: every output equals the plain step's (within 1e-6)",
      async (impl) => {
        const fx = readSafetensorsFile(path);
        const { config: k } = readJson<{ config: Keys }>(path.replace(/\.safetensors$/, ".json"));
        const base = stepConfigFromOfficial(k, { emitGrads: true, dropPathRate: 0.3 });
        const { out: plain, replayed: none } = await runStep({ ...base, impl }, fx, k);
        const { out: recomputed, replayed } = await runStep(
          { ...base, impl: { ...impl, recomputeBudgetGiB: 0 } },
          fx,
          k,
        );
        expect(none).toBe(0);
        expect(replayed).toBeGreaterThan(0); // the blocks really are replayed in the backward
        expect(Object.keys(recomputed).sort()).toEqual(Object.keys(plain).sort());
        let worst = 0;
        let blockGrads = 0;
        for (const [name, p] of Object.entries(plain)) {
          const a = toNumbers(p);
          const b = toNumbers(recomputed[name]!);
          a.forEach((v, i) => {
            worst = Math.max(worst, Math.abs(v - b[i]!) / Math.max(1, Math.abs(v)));
          });
          if (name.startsWith("grad.student.backbone.blocks.") && a.some((v) => v !== 0))
            blockGrads++;
        }
        expect(blockGrads).toBeGreaterThan(0); // the recomputed blocks do get gradients
        expect(worst).toBeLessThanOrEqual(1e-6);
      },
    );
  },
);
