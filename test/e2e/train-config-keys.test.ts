// The official config keys that steer a run act: student.pretrained_weights loads a backbone
// into student and teacher; MODEL.WEIGHTS starts from a training checkpoint's whole state;
// evaluation.eval_period_iterations saves the teacher under eval/training_<it>/ as do_test does;
// an official dataset_path is refused instead of silently training on the synthetic set.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { resolveConfig } from "../../src/config/index.js";
import { writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone, loadBackbone } from "../../src/models/backbone.js";
import { stepConfigFromTrain } from "../../src/train/from-config.js";
import { runTraining, withPretrainedBackbone } from "../../src/train/loop.js";
import { initialState } from "../../src/train/state.js";
import { buildTrainStep } from "../../src/train/train-step.js";
import { sameBits } from "../helpers/same-bits.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const SETS = [...TINY_TRAIN_SETS, "train.OFFICIAL_EPOCH_LENGTH=3", "optim.epochs=2"];
const DATA = { kind: "synthetic", seed: 3, length: 64, size: 32 } as const;

describe("config keys that steer a run", () => {
  it("student.pretrained_weights: the backbone goes into student and teacher; a misfit is refused", () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const c = stepConfigFromTrain(resolved);
    const step = buildTrainStep(c);
    const dir = mkdtempSync(join(tmpdir(), "dinov2-pretrained-"));
    const donor = createBackbone(c.arch.backbone, 77);
    const file = join(dir, "backbone.safetensors");
    writeSafetensorsFile(file, donor.weights);
    const fresh = initialState(step, { seed: 0 });
    const state = withPretrainedBackbone(fresh, file);
    for (const [key, w] of donor.weights) {
      expect(sameBits(state.tensors.get(`student.backbone.${key}`)!, w), key).toBe(true);
      expect(sameBits(state.tensors.get(`teacher.backbone.${key}`)!, w), key).toBe(true);
    }
    // Heads stay as initialised.
    const head = "student.dino_head.mlp.0.weight";
    expect(sameBits(state.tensors.get(head)!, fresh.tensors.get(head)!)).toBe(true);

    const wider = createBackbone({ ...c.arch.backbone, embedDim: 96, numHeads: 3 }, 1);
    const bad = join(dir, "wider.safetensors");
    writeSafetensorsFile(bad, wider.weights);
    expect(() => withPretrainedBackbone(fresh, bad)).toThrow(/cls_token.*\[1,1,96\].*\[1,1,48\]/s);
  });

  it("MODEL.WEIGHTS starts from a checkpoint's state and iteration; eval period saves the teacher", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const a = mkdtempSync(join(tmpdir(), "dinov2-modelweights-a-"));
    const first = await runTraining({
      resolved,
      dataset: DATA,
      outputDir: a,
      iters: 2,
      threads: 1,
    });
    const ckpt = join(a, "checkpoints", "checkpoint-0000002.safetensors");
    expect(existsSync(ckpt)).toBe(true);

    const b = mkdtempSync(join(tmpdir(), "dinov2-modelweights-b-"));
    const second = await runTraining({
      resolved,
      dataset: DATA,
      outputDir: b,
      iters: 3,
      threads: 1,
      modelWeights: ckpt,
    });
    expect(second.resumedFrom).toBe(2);
    expect(second.history).toHaveLength(1);
    const key = "teacher.backbone.cls_token";
    expect(sameBits(second.state.tensors.get(key)!, first.state.tensors.get(key)!)).toBe(false);
  });

  it("dinov2 train: eval period writes eval/training_<it>/; an official dataset class is refused", async () => {
    const out = mkdtempSync(join(tmpdir(), "dinov2-evalperiod-"));
    const sets = [...SETS, "evaluation.eval_period_iterations=2", "train.num_workers=0"];
    const err: string[] = [];
    const code = await runCli(
      [
        "train",
        "--preset",
        "vits14-demo",
        "--output-dir",
        out,
        "--iters",
        "2",
        "--threads",
        "1",
        ...sets.flatMap((s) => ["--set", s]),
      ],
      () => {},
      (t) => err.push(t),
    );
    expect(code, err.join("\n")).toBe(0);
    const teacher = join(out, "eval", "training_2", "teacher_checkpoint.safetensors");
    const loaded = loadBackbone(teacher, { numHeads: 3 });
    expect(loaded.options.embedDim).toBe(48);

    const refused: string[] = [];
    const code2 = await runCli(
      [
        "train",
        "--preset",
        "vits14-demo",
        "--output-dir",
        out,
        "--iters",
        "1",
        "--set",
        "train.dataset_path=ImageNet22k",
      ],
      () => {},
      (t) => refused.push(t),
    );
    expect(code2).toBe(1);
    expect(refused.join("\n")).toMatch(/train\.dataset_path "ImageNet22k".*--data DIR/s);
  });
});
