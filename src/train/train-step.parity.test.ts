// One full training iteration against the official SSLMetaArch.forward_backward + clip + AdamW +
// EMA, for every ssl_step_* fixture set: losses, raw gradients, weights after the step, the
// teacher after EMA and the centers. Sizes and options come from each fixture's JSON.
import { describe, expect, it } from "vitest";
import { expectClose, readJson, setsWith } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import { fmtShape, type HostTensor, hostTensor, toNumbers } from "../core/index.js";
import { readSafetensorsFile } from "../io/index.js";
import { type OfficialStepKeys, stepConfigFromOfficial } from "./step-config.js";
import { buildTrainStep, LOSS_NAMES } from "./train-step.js";

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

describe.each(setsWith("ssl_step_*.safetensors"))("training iteration, $path", ({ path }) => {
  it("losses, gradients, AdamW step, EMA teacher and centers equal the official iteration", async () => {
    const fx = readSafetensorsFile(path);
    const { config: k } = readJson<StepFixtureJson>(path.replace(/\.safetensors$/, ".json"));
    const cfg = stepConfigFromOfficial(k, { emitGrads: true });
    const step = buildTrainStep(cfg);
    const exe = await (await testRuntime()).compile(step.outputs);

    const feeds: Record<string, HostTensor> = {};
    const u = k.upperbound;
    const idx = fx.get("in.mask_indices")!;
    const w = fx.get("in.masks_weight")!;
    const n = idx.data.length;
    feeds.globalCrops = fx.get("in.global_crops")!;
    if (cfg.nLocal > 0) feeds.localCrops = fx.get("in.local_crops")!;
    feeds.masks = { ...fx.get("in.masks")!, dtype: "bool" } as HostTensor;
    feeds.maskIndices = hostTensor(
      "int64",
      [u],
      BigInt64Array.from({ length: u }, (_, i) => (i < n ? (idx.data as BigInt64Array)[i]! : 0n)),
    );
    feeds.maskWeights = hostTensor(
      "float32",
      [u],
      Float32Array.from({ length: u }, (_, i) => (i < n ? (w.data as Float32Array)[i]! : 0)),
    );
    feeds.maskValid = hostTensor(
      "float32",
      [u],
      Float32Array.from({ length: u }, (_, i) => (i < n ? 1 : 0)),
    );
    feeds.nMasked = hostTensor("float32", [], [n]);
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
      const init = fx.get(`student.${key}`);
      if (!init) throw new Error(`fixture lacks student.${key}`);
      feeds[`student.${key}`] = init;
      feeds[`teacher.${key}`] = init;
      feeds[`adam.m.${key}`] = hostTensor("float32", init.shape);
      feeds[`adam.v.${key}`] = hostTensor("float32", init.shape);
    }
    const expectedKeys = [...fx.keys()]
      .filter((key) => key.startsWith("student."))
      .map((key) => key.slice(8))
      .sort();
    expect([...step.paramKeys].sort()).toEqual(expectedKeys);
    for (const [name, t] of exe.inputs)
      if (name.endsWith("Center")) feeds[name] = hostTensor("float32", t.shape);
    const out = await exe.run(feeds);

    for (const name of LOSS_NAMES) {
      const want = fx.get(`out.loss.${name}`)!;
      expectClose(
        `out.loss.${name}`,
        hostTensor("float32", want.shape, toNumbers(out[`loss.${name}`]!)),
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
    for (const [fk, ok] of [
      ["after.dino_center", "new.dinoCenter"],
      ["after.ibot_center", "new.ibotCenter"],
    ] as const) {
      const want = fx.get(fk);
      if (want) expectClose(fk, out[ok]!, want, 1e-3);
    }
  });
});

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
