// One full training iteration against the official SSLMetaArch.forward_backward + clip + AdamW +
// EMA, for every ssl_step_* fixture set: losses, raw gradients, weights after the step, the
// teacher after EMA and the centers. Sizes and options come from each fixture's JSON.
import { expect, it } from "vitest";
import { describeEachFixture, expectClose, readJson } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import { fmtShape, type HostTensor, hostTensor, toNumbers } from "../core/index.js";
import type { SslBatch } from "../data/collate.js";
import { createRng } from "../data/rng.js";
import { readSafetensorsFile } from "../io/index.js";
import { initialState, stepFeeds } from "./state.js";
import { type OfficialStepKeys, stepConfigFromOfficial } from "./step-config.js";
import { buildTrainStep, STATE } from "./train-step.js";

interface StepFixtureJson {
  readonly config: OfficialStepKeys & {
    lr: number;
    last_layer_lr: number;
    wd: number;
    momentum: number;
    teacher_temp: number;
    n_masked_patches: number;
  };
}

type Fixture = ReadonlyMap<string, HostTensor>;

describeEachFixture("ssl_step_*.safetensors", "training iteration, $path", ({ path }) => {
  it("losses, gradients, AdamW step, EMA teacher and centers equal the official iteration", async () => {
    const fx = readSafetensorsFile(path);
    const { config: k } = readJson<StepFixtureJson>(path.replace(/\.safetensors$/, ".json"));
    const cfg = stepConfigFromOfficial(k, { emitGrads: true });
    const step = buildTrainStep(cfg);
    const exe = await (await testRuntime()).compile(step.outputs);

    const student = new Map(
      [...fx]
        .filter(([key]) => key.startsWith(STATE.student))
        .map(([key, t]) => [key.slice(STATE.student.length), t]),
    );
    expect([...step.paramKeys].sort()).toEqual([...student.keys()].sort());
    // The production feed code: the state the step declares, the batch, the schedule.
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
      createRng(0),
    );
    const out = await exe.run(feeds);

    const losses = step.signature.outputsOf("loss").map((o) => o.name);
    expect(losses.sort()).toEqual(
      [...fx.keys()]
        .filter((n) => n.startsWith("out.loss."))
        .map((n) => n.slice(4))
        .sort(),
    );
    for (const name of losses) {
      const want = fx.get(`out.${name}`)!;
      expectClose(
        `out.${name}`,
        hostTensor("float32", want.shape, toNumbers(out[name]!)),
        want,
        1e-3,
      );
    }
    for (const key of step.paramKeys) {
      const g = fx.get(`grad.student.${key}`)!;
      expectClose(`grad.student.${key}`, out[`grad.student.${key}`]!, g, 1e-3);
      expectCloseWhereGradient(
        `after.student.${key}`,
        out[`new.student.${key}`]!,
        fx.get(`after.student.${key}`)!,
        g,
      );
      expectCloseWhereGradient(
        `after.teacher.${key}`,
        out[`new.teacher.${key}`]!,
        fx.get(`after.teacher.${key}`)!,
        g,
      );
    }
    for (const [fk, state] of [
      ["after.dino_center", STATE.dinoCenter],
      ["after.ibot_center", STATE.ibotCenter],
    ] as const) {
      const want = fx.get(fk);
      if (want) expectClose(fk, out[`new.${state}`]!, want, 1e-3);
    }
  });
});

/** The fixture's collated batch (official collate output) as our SslBatch. */
function fixtureBatch(fx: Fixture, k: StepFixtureJson["config"]): SslBatch {
  const get = (name: string) => {
    const t = fx.get(name);
    if (!t) throw new Error(`fixture lacks ${name}`);
    return t;
  };
  const idx = get("in.mask_indices");
  const g = get("in.global_crops");
  const local = fx.get("in.local_crops");
  const n = idx.data.length;
  return {
    batchSize: k.batch_size,
    nGlobalCrops: 2,
    nLocalCrops: k.local_crops_number,
    globalCropsSize: k.global_crops_size,
    localCropsSize: k.local_crops_size,
    nPatches: (g.shape[2]! / k.patch_size) * (g.shape[3]! / k.patch_size),
    globalCrops: g.data as Float32Array,
    localCrops: (local?.data as Float32Array | undefined) ?? new Float32Array(0),
    masks: Uint8Array.from(toNumbers(get("in.masks"))),
    maskIndices: Int32Array.from(toNumbers(idx)),
    maskWeights: Float32Array.from(toNumbers(get("in.masks_weight"))),
    nMaskedPatches: n,
    upperbound: k.upperbound,
    labels: new Int32Array(k.batch_size).fill(-1),
  };
}

/**
 * AdamW's first step moves a weight by about lr·sign(grad): where the reference gradient is float
 * noise its sign is arbitrary, so compare only where |grad| > 1e-5 of the tensor's largest
 * (the fixtures README's rule), with the training-step tolerance of 1e-3.
 */
function expectCloseWhereGradient(
  key: string,
  got: HostTensor,
  want: HostTensor,
  refGrad: HostTensor,
): void {
  if (got.data.length !== want.data.length)
    throw new Error(`${key}: shape ${fmtShape(got.shape)}, expected ${fmtShape(want.shape)}`);
  const g = toNumbers(refGrad);
  const gmax = Math.max(...g.map(Math.abs));
  const keep = g.map((v) => Math.abs(v) > 1e-5 * gmax);
  const pick = (t: HostTensor) => toNumbers(t).filter((_, i) => keep[i]);
  const a = pick(got);
  const b = pick(want);
  expectClose(
    key,
    hostTensor("float64", [a.length], a),
    hostTensor("float64", [b.length], b),
    1e-3,
  );
}
