// The distillation step against a second path through the pretraining step. With the same
// architecture, an EMA teacher whose momentum is 1 never moves (teacher·1 + student·0), so the
// pretraining step with teacher weights T, no masking (every patch in iBOT) and no drop path must
// give the distillation step's losses, gradients, AdamW update and centers with a frozen teacher
// T: the two graphs differ only in how the teacher enters. The spare student EMA is checked
// against its formula on the host.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { TINY_TRAIN_SETS } from "../../test/helpers/tiny-config.js";
import { resolveConfig } from "../config/index.js";
import { type HostTensor, hostTensor, toNumbers } from "../core/index.js";
import { createSslLoader } from "../data/loader.js";
import { createRng } from "../data/rng.js";
import { writeSafetensorsFile } from "../io/index.js";
import { initWeights } from "../models/backbone.js";
import { allPatchesBatch, distillOptionsFrom, distillStepConfig } from "./distill.js";
import { sslLoaderOptions, stepConfigFromTrain } from "./from-config.js";
import { buildSchedules, scheduledValues } from "./schedules.js";
import { SslModel } from "./ssl-model.js";
import { loadSslNetwork, type SslNetwork } from "./ssl-teacher.js";
import { initialState, stepFeeds } from "./state.js";
import { buildTrainStep, STATE } from "./train-step.js";

const SETS = [...TINY_TRAIN_SETS, "student.drop_path_rate=0", "train.centering=centering"];

function maxRelDiff(a: HostTensor, b: HostTensor): number {
  const x = toNumbers(a);
  const y = toNumbers(b);
  const scale = Math.max(1e-6, ...y.map(Math.abs));
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!))) / scale;
}

/** A teacher network file of `arch` with weights from `seed`, as our eval export writes it. */
function teacherFile(model: SslModel, seed: number): SslNetwork {
  const dir = mkdtempSync(join(tmpdir(), "dinov2-distill-"));
  const file = join(dir, "teacher_checkpoint.safetensors");
  writeSafetensorsFile(file, initWeights(model, seed));
  return loadSslNetwork(file, { numHeads: model.arch.backbone.numHeads });
}

describe("distillation step", () => {
  it("equals the pretraining step with a momentum-1 EMA teacher, no masking, no drop path", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const pre = stepConfigFromTrain(resolved);
    const teacher = teacherFile(new SslModel(pre.arch), 11);
    const dc = distillStepConfig(pre, teacher, distillOptionsFrom(resolved));
    expect(dc.studentEma).toBe(true);
    expect(dc.dropPathRate).toBe(0);

    const loader = createSslLoader({
      ...sslLoaderOptions(resolved),
      dataset: { kind: "synthetic", seed: 1, length: 16, size: 32 },
      numBatches: 1,
    });
    const batch = allPatchesBatch((await loader.next())!);
    await loader.close();
    const sched = { ...scheduledValues(buildSchedules(resolved.cfg, resolved.derived), 3) };
    const rt = await testRuntime();

    const distill = buildTrainStep({ ...dc, emitGrads: true });
    const dState = initialState(distill, { seed: 0, given: teacher.weights });
    const dOut = await (await rt.compile(distill.outputs)).run(
      stepFeeds(distill, dState, batch, sched, createRng(0)),
    );

    // The second path: the pretraining step, teacher = T entering as EMA state, momentum 1.
    const pretrain = buildTrainStep({
      ...dc,
      teacher: { kind: "ema" },
      studentEma: false,
      emitGrads: true,
    });
    const fresh = initialState(pretrain, { seed: 0 });
    const tensors = new Map(fresh.tensors);
    for (const [k, t] of teacher.weights) tensors.set(STATE.teacher + k, t);
    const pOut = await (await rt.compile(pretrain.outputs)).run(
      stepFeeds(
        pretrain,
        { iteration: 0, tensors },
        batch,
        { ...sched, momentum: 1 },
        createRng(0),
      ),
    );

    const compared = Object.keys(pOut).filter((k) => !k.startsWith(`new.${STATE.teacher}`));
    expect(compared.some((k) => k.startsWith("grad."))).toBe(true);
    expect(compared).toContain("loss.ibot_loss");
    for (const key of compared) expect(maxRelDiff(dOut[key]!, pOut[key]!), key).toBeLessThan(1e-5);
    // The momentum-1 teacher indeed stayed (so the comparison is with a frozen teacher).
    const tk = "backbone.blocks.0.mlp.fc1.weight";
    expect(maxRelDiff(pOut[`new.${STATE.teacher}${tk}`]!, teacher.weights.get(tk)!)).toBe(0);
    // No teacher update comes out of the distillation step.
    expect(Object.keys(dOut).some((k) => k.startsWith(`new.${STATE.teacher}`))).toBe(false);

    // The student EMA: ema·m + new_student·(1 - m), m the scheduled momentum.
    const m = sched.momentum;
    const ema0 = toNumbers(dState.tensors.get(`${STATE.studentEma}${tk}`)!);
    const s1 = toNumbers(dOut[`new.${STATE.student}${tk}`]!);
    const want = hostTensor(
      "float32",
      teacher.weights.get(tk)!.shape,
      ema0.map((e, i) => e * m + s1[i]! * (1 - m)),
    );
    expect(maxRelDiff(dOut[`new.${STATE.studentEma}${tk}`]!, want)).toBeLessThan(1e-6);
  });

  it("a wider teacher with other prototype counts shapes the student's heads", () => {
    const resolved = resolveConfig({
      preset: "vits14-demo",
      sets: [...SETS, "ibot.separate_head=true"],
    });
    const pre = stepConfigFromTrain(resolved);
    const big = new SslModel({
      backbone: { ...pre.arch.backbone, embedDim: 96, numHeads: 3 },
      dinoHead: { inDim: 96, outDim: 40, hiddenDim: 64, bottleneckDim: 16, nlayers: 3 },
      ibotHead: { inDim: 96, outDim: 24, hiddenDim: 64, bottleneckDim: 16, nlayers: 3 },
    });
    const dc = distillStepConfig(pre, teacherFile(big, 3), distillOptionsFrom(resolved));
    expect(dc.arch.backbone.embedDim).toBe(48);
    expect(dc.arch.dinoHead?.outDim).toBe(40);
    expect(dc.arch.ibotHead?.outDim).toBe(24);
    expect(dc.arch.dinoHead?.inDim).toBe(48);
    const step = buildTrainStep(dc);
    expect(
      step.signature.inputs.find((s) => s.name === "teacher.backbone.cls_token")?.shape,
    ).toEqual([1, 1, 96]);
  });

  it("refuses a teacher whose patch size differs, naming both", () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const pre = stepConfigFromTrain(resolved);
    const other = new SslModel({
      ...pre.arch,
      backbone: { ...pre.arch.backbone, patchSize: 7, imgSize: 28 },
    });
    expect(() =>
      distillStepConfig(pre, teacherFile(other, 1), distillOptionsFrom(resolved)),
    ).toThrow(/teacher's patch size is 7 .* the student's 14 \(student\.patch_size\)/);
  });
});
