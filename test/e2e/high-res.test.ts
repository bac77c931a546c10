// The high-resolution phase: a run initialised from a checkpoint at a larger global crop size
// starts as the old model evaluated at the new size (positional embeddings interpolated by the
// model's own rule), then trains.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import { hostTensor, input, toNumbers } from "../../src/core/index.js";
import { DinoVisionTransformer } from "../../src/models/vision-transformer.js";
import { bindConstants } from "../../src/nn/module.js";
import { stepConfigFromTrain } from "../../src/train/from-config.js";
import { runTraining, teacherBackbone } from "../../src/train/loop.js";
import { testRuntime } from "../helpers/op-check.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const SETS = [
  ...TINY_TRAIN_SETS.filter((k) => !k.startsWith("crops.global_crops_size")),
  "train.OFFICIAL_EPOCH_LENGTH=2",
  "optim.epochs=2",
  "optim.warmup_epochs=1",
];
const DATA = { kind: "synthetic", seed: 3, length: 64, size: 48 } as const;

describe("high-resolution phase", () => {
  it("starts from the low-resolution teacher evaluated at the new size, then trains", async () => {
    const low = resolveConfig({
      preset: "vits14-demo",
      sets: [...SETS, "crops.global_crops_size=28"],
    });
    const high = resolveConfig({
      preset: "vits14-demo",
      sets: [...SETS, "crops.global_crops_size=42"],
    });
    const a = mkdtempSync(join(tmpdir(), "dinov2-lowres-"));
    const r1 = await runTraining({
      resolved: low,
      dataset: DATA,
      outputDir: a,
      iters: 2,
      threads: 1,
    });
    const ckpt = join(
      a,
      "checkpoints",
      readdirSync(join(a, "checkpoints")).find((f) => f.endsWith(".safetensors"))!,
    );
    const b = mkdtempSync(join(tmpdir(), "dinov2-highres-"));
    const start = await runTraining({
      resolved: high,
      dataset: DATA,
      outputDir: b,
      iters: 0,
      initFrom: ckpt,
      threads: 1,
    });
    const x = hostTensor(
      "float32",
      [1, 3, 42, 42],
      Float32Array.from({ length: 3 * 42 * 42 }, (_, i) => Math.sin(i)),
    );
    const feats = async (
      opts: ReturnType<typeof stepConfigFromTrain>["arch"]["backbone"],
      w: ReturnType<typeof teacherBackbone>,
    ) => {
      const m = new DinoVisionTransformer(opts);
      bindConstants(m, w);
      const exe = await (await testRuntime()).compile({
        y: m.forwardFeatures(input("x", x.shape)).prenorm,
      });
      return toNumbers((await exe.run({ x })).y!);
    };
    const before = await feats(stepConfigFromTrain(low).arch.backbone, teacherBackbone(r1.state));
    const after = await feats(
      stepConfigFromTrain(high).arch.backbone,
      teacherBackbone(start.state),
    );
    expect(Math.max(...before.map((v, i) => Math.abs(v - after[i]!)))).toBeLessThan(1e-5);
    const trained = await runTraining({
      resolved: high,
      dataset: DATA,
      outputDir: mkdtempSync(join(tmpdir(), "dinov2-hr2-")),
      iters: 1,
      initFrom: ckpt,
      threads: 1,
    });
    expect(Number.isFinite(trained.history[0]!.losses.total)).toBe(true);
  });
});
