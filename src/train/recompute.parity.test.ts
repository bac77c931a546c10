// Activation recomputation in the whole training iteration: with every student block recomputed
// in the backward pass (core/checkpoint.ts), each output of the step (losses, raw gradients,
// weights after AdamW, EMA teacher, centers) equals the plain step's, for every ssl_step_*
// fixture configuration and its inputs.
import { describe, expect, it } from "vitest";
import { readJson, setsWith } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import { type HostTensor, hostTensor, toNumbers } from "../core/index.js";
import { readSafetensorsFile } from "../io/index.js";
import { type OfficialStepKeys, stepConfigFromOfficial } from "./step-config.js";
import { buildTrainStep, type StepConfig } from "./train-step.js";

interface StepFixtureJson {
  readonly config: OfficialStepKeys & {
    lr: number;
    last_layer_lr: number;
    wd: number;
    momentum: number;
    teacher_temp: number;
  };
}

async function runStep(cfg: StepConfig, path: string): Promise<Record<string, HostTensor>> {
  const fx = readSafetensorsFile(path);
  const { config: k } = readJson<StepFixtureJson>(path.replace(/\.safetensors$/, ".json"));
  const step = buildTrainStep(cfg);
  const exe = await (await testRuntime()).compile(step.outputs);
  const u = k.upperbound;
  const idx = fx.get("in.mask_indices")!.data as BigInt64Array;
  const w = fx.get("in.masks_weight")!.data as Float32Array;
  const n = idx.length;
  const pad = (f: (i: number) => number) => Float32Array.from({ length: u }, (_, i) => f(i));
  const feeds: Record<string, HostTensor> = {
    globalCrops: fx.get("in.global_crops")!,
    masks: { ...fx.get("in.masks")!, dtype: "bool" } as HostTensor,
    maskIndices: hostTensor(
      "int64",
      [u],
      BigInt64Array.from({ length: u }, (_, i) => (i < n ? idx[i]! : 0n)),
    ),
    maskWeights: hostTensor(
      "float32",
      [u],
      pad((i) => (i < n ? w[i]! : 0)),
    ),
    maskValid: hostTensor(
      "float32",
      [u],
      pad((i) => (i < n ? 1 : 0)),
    ),
    nMasked: hostTensor("float32", [], [n]),
  };
  if (cfg.nLocal > 0) feeds.localCrops = fx.get("in.local_crops")!;
  const scalars = {
    lr: k.lr,
    lastLayerLr: k.last_layer_lr,
    wd: k.wd,
    momentum: k.momentum,
    teacherTemp: k.teacher_temp,
    bc1: 1 - k.adamw_betas[0],
    bc2: 1 - k.adamw_betas[1],
  };
  for (const [name, v] of Object.entries(scalars)) feeds[name] = hostTensor("float32", [], [v]);
  for (const key of step.paramKeys) {
    const init = fx.get(`student.${key}`)!;
    feeds[`student.${key}`] = init;
    feeds[`teacher.${key}`] = init;
    feeds[`adam.m.${key}`] = hostTensor("float32", init.shape);
    feeds[`adam.v.${key}`] = hostTensor("float32", init.shape);
  }
  for (const [name, t] of exe.inputs)
    if (name.endsWith("Center")) feeds[name] = hostTensor("float32", t.shape);
  return exe.run(feeds);
}

describe.each(setsWith("ssl_step_*.safetensors"))(
  "recomputed training iteration, $path",
  ({ path }) => {
    it("every output equals the plain step's (within 1e-6)", async () => {
      const { config: k } = readJson<StepFixtureJson>(path.replace(/\.safetensors$/, ".json"));
      const plainCfg = stepConfigFromOfficial(k, { emitGrads: true });
      const recomputedCfg: StepConfig = {
        ...plainCfg,
        arch: {
          ...plainCfg.arch,
          backbone: { ...plainCfg.arch.backbone, recomputeBudgetGiB: 0 },
        },
      };
      const plain = await runStep(plainCfg, path);
      const recomputed = await runStep(recomputedCfg, path);
      expect(Object.keys(recomputed).sort()).toEqual(Object.keys(plain).sort());
      let worst = 0;
      let gradNonZero = 0;
      for (const [name, p] of Object.entries(plain)) {
        const a = toNumbers(p);
        const b = toNumbers(recomputed[name]!);
        a.forEach((v, i) => {
          worst = Math.max(worst, Math.abs(v - b[i]!) / Math.max(1, Math.abs(v)));
        });
        if (name.startsWith("grad.student.backbone.blocks.") && a.some((v) => v !== 0))
          gradNonZero++;
      }
      expect(gradNonZero).toBeGreaterThan(0); // the recomputed blocks do get gradients
      expect(worst).toBeLessThanOrEqual(1e-6);
    });
  },
);
