// The train step's declaration and options: the efficient step (packed crops, subset stochastic
// depth) equals the plain formulation at drop rate 0; the graph takes exactly the inputs its
// signature declares; clip_grad 0 and loss weights 0 act as in the official code.
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { TINY_TRAIN_SETS } from "../../test/helpers/tiny-config.js";
import { type ResolvedConfig, resolveConfig } from "../config/index.js";
import { type HostTensor, toNumbers } from "../core/index.js";
import type { SslBatch } from "../data/collate.js";
import { createSslLoader } from "../data/loader.js";
import { createRng } from "../data/rng.js";
import { augmentationFromTrain, stepConfigFromTrain } from "./from-config.js";
import { buildSchedules, scheduledValues } from "./schedules.js";
import { initialState, nextState, stepFeeds } from "./state.js";
import type { StepConfig } from "./step-config.js";
import { buildTrainStep } from "./train-step.js";

const SETS = [
  ...TINY_TRAIN_SETS.filter((k) => k !== "student.depth=1"),
  "student.depth=2",
  "student.drop_path_rate=0",
];

async function firstBatch(resolved: ResolvedConfig, batch: number): Promise<SslBatch> {
  const loader = createSslLoader({
    dataset: { kind: "synthetic", seed: 1, length: 16, size: 32 },
    seed: 0,
    patchSize: 14,
    augmentation: augmentationFromTrain(resolved),
    maskRatioMinMax: resolved.cfg.ibot.mask_ratio_min_max as [number, number],
    maskProbability: resolved.cfg.ibot.mask_sample_probability,
    batchSize: batch,
    numBatches: 1,
  });
  const b = (await loader.next())!;
  await loader.close();
  return b;
}

/** One step of `c` (default: the config of `sets`) from the seed-0 state on the first batch. */
async function runStep(
  sets: readonly string[],
  patch: Partial<StepConfig> = {},
): Promise<{ out: Record<string, HostTensor>; inputs: string[]; declared: string[] }> {
  const resolved = resolveConfig({ preset: "vits14-demo", sets: [...SETS, ...sets] });
  const c = { ...stepConfigFromTrain(resolved), ...patch };
  const step = buildTrainStep(c);
  const exe = await (await testRuntime()).compile(step.outputs);
  const sched = scheduledValues(buildSchedules(resolved.cfg, resolved.derived), 5);
  const state = initialState(step, { seed: 0 });
  const batch = await firstBatch(resolved, c.batch);
  const out = await exe.run(stepFeeds(step, state, batch, sched, createRng(0)));
  // The host state after the step reads back every update the signature pairs with its state.
  const next = nextState(step, state, out);
  expect(next.iteration).toBe(1);
  return {
    out,
    inputs: [...exe.inputs.keys()].sort(),
    declared: step.signature.inputs.map((s) => s.name).sort(),
  };
}

function maxRelDiff(a: HostTensor, b: HostTensor): number {
  const x = toNumbers(a);
  const y = toNumbers(b);
  const scale = Math.max(1e-6, ...y.map(Math.abs));
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!))) / scale;
}

describe("train step", () => {
  it("packed + efficient stochastic depth equals the plain step (drop rate 0)", async () => {
    const a = await runStep([], { impl: { packing: true, dropPath: "efficient" } });
    const b = await runStep([], { impl: { packing: false, dropPath: "mask" } });
    expect(Object.keys(a.out).sort()).toEqual(Object.keys(b.out).sort());
    for (const key of Object.keys(a.out))
      expect(maxRelDiff(a.out[key]!, b.out[key]!), key).toBeLessThan(1e-4);
  });

  it.each([
    ["softmax centering, shared head", []],
    [
      "Sinkhorn-Knopp, separate iBOT head",
      ["train.centering=sinkhorn_knopp", "ibot.separate_head=true"],
    ],
    ["iBOT off", ["ibot.loss_weight=0"]],
    ["DINO off (KoLeo with it), shared head", ["dino.loss_weight=0"]],
    ["DINO off, separate iBOT head", ["dino.loss_weight=0", "ibot.separate_head=true"]],
  ])("%s: the graph takes exactly the declared inputs", async (_, sets) => {
    const r = await runStep(sets);
    expect(r.inputs).toEqual(r.declared);
  });

  it("iBOT loss weight 0: no iBOT term, center or head, and the DINO terms still train", async () => {
    const r = await runStep(["ibot.loss_weight=0", "ibot.separate_head=true"]);
    expect(
      Object.keys(r.out)
        .filter((k) => k.startsWith("loss."))
        .sort(),
    ).toEqual([
      "loss.dino_global_crops_loss",
      "loss.dino_local_crops_loss",
      "loss.koleo_loss",
      "loss.total",
    ]);
    expect(r.inputs.some((n) => n.includes("ibot"))).toBe(false);
    expect(r.inputs).not.toContain("maskIndices");
  });

  it("DINO loss weight 0: no DINO or KoLeo term and no local crops; iBOT trains the shared head", async () => {
    const r = await runStep(["dino.loss_weight=0"]);
    expect(
      Object.keys(r.out)
        .filter((k) => k.startsWith("loss."))
        .sort(),
    ).toEqual(["loss.ibot_loss", "loss.total"]);
    expect(r.inputs).not.toContain("localCrops");
    expect(r.inputs).not.toContain("dinoCenter");
    expect(r.inputs).toContain("student.dino_head.last_layer.weight_v");
  });

  it("both loss weights 0 is refused", () => {
    expect(() =>
      resolveAndBuild(["dino.loss_weight=0", "ibot.loss_weight=0"]),
    ).toThrowErrorMatchingInlineSnapshot(
      `[Error: dino.loss_weight and ibot.loss_weight are both 0: the step would train nothing]`,
    );
  });

  it("clip_grad 0 turns clipping off (official), instead of zeroing every gradient", async () => {
    const off = await runStep(["optim.clip_grad=0"]);
    const huge = await runStep(["optim.clip_grad=1e30"]);
    const tight = await runStep(["optim.clip_grad=1e-4"]);
    // AdamW's first moment holds (1 - beta1) x the clipped gradient (the weights move by about
    // lr x sign(gradient) on a first step whatever the gradient's scale, so they cannot tell).
    const w = "new.adam.m.backbone.blocks.0.mlp.fc1.weight";
    expect(maxRelDiff(off.out[w]!, huge.out[w]!)).toBeLessThan(1e-6);
    // Clipping that acts changes the update, so the comparison above can tell.
    expect(maxRelDiff(tight.out[w]!, huge.out[w]!)).toBeGreaterThan(0.5);
  });
});

function resolveAndBuild(sets: readonly string[]) {
  return buildTrainStep(
    stepConfigFromTrain(resolveConfig({ preset: "vits14-demo", sets: [...SETS, ...sets] })),
  );
}
