// One full training iteration against the official SSLMetaArch.forward_backward + clip + AdamW +
// EMA, for every ssl_step_* fixture set: losses, raw gradients, weights after the step, the
// teacher after EMA and the centers. Sizes and options come from each fixture's JSON.
import { expect, it } from "vitest";
import { describeEachFixture, expectClose, readJson } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import {
  fixtureFeeds,
  fixtureStudent,
  type StepFixtureKeys,
} from "../../test/helpers/ssl-step-fixture.js";
import { fmtShape, type HostTensor, hostTensor, toNumbers } from "../core/index.js";
import { readSafetensorsFile } from "../io/index.js";
import { stepConfigFromOfficial } from "./step-config.js";
import { buildTrainStep, STATE } from "./train-step.js";

interface StepFixtureJson {
  readonly config: StepFixtureKeys;
}

describeEachFixture("ssl_step_*.safetensors", "training iteration, $path", ({ path }) => {
  it("losses, gradients, AdamW step, EMA teacher and centers equal the official iteration", async () => {
    const fx = readSafetensorsFile(path);
    const { config: k } = readJson<StepFixtureJson>(path.replace(/\.safetensors$/, ".json"));
    const cfg = stepConfigFromOfficial(k, { emitGrads: true });
    const step = buildTrainStep(cfg);
    const exe = await (await testRuntime()).compile(step.outputs);

    const student = fixtureStudent(fx);
    expect([...step.paramKeys].sort()).toEqual([...student.keys()].sort());
    // The production feed code: the state the step declares, the batch, the schedule.
    const feeds = fixtureFeeds(step, fx, k);
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
