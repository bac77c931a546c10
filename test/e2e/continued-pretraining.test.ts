// Continued pretraining: `--init-from` a released backbone (fresh heads) or a network with its
// heads (a teacher checkpoint), with the head warm-up (optim.freeze_backbone_iters) keeping the
// backbone still while the heads train.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import type { HostTensor } from "../../src/core/index.js";
import { writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone } from "../../src/models/backbone.js";
import { saveTeacherForEval } from "../../src/train/export.js";
import { stepConfigFromTrain } from "../../src/train/from-config.js";
import { runTraining } from "../../src/train/loop.js";
import { sameBits } from "../helpers/same-bits.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const SETS = [...TINY_TRAIN_SETS, "train.OFFICIAL_EPOCH_LENGTH=3", "optim.epochs=2"];
const DATA = { kind: "synthetic", seed: 3, length: 64, size: 32 } as const;

const maxDiff = (a: HostTensor, b: HostTensor) => {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
};

describe("continued pretraining", () => {
  it("from a released backbone: heads start fresh; the warm-up holds the backbone, then it trains", async () => {
    const resolved = resolveConfig({
      preset: "vits14-demo",
      sets: [...SETS, "optim.freeze_backbone_iters=2"],
    });
    const c = stepConfigFromTrain(resolved);
    const dir = mkdtempSync(join(tmpdir(), "dinov2-continue-"));
    const released = createBackbone(c.arch.backbone, 5);
    const file = join(dir, "released.safetensors");
    writeSafetensorsFile(file, released.weights);
    const run = (iters: number, out: string) =>
      runTraining({
        resolved,
        dataset: DATA,
        outputDir: join(dir, out),
        iters,
        threads: 1,
        initFrom: file,
      });

    const warm = await run(2, "warm");
    const w = "backbone.blocks.0.attn.qkv.weight";
    expect(
      sameBits(warm.state.tensors.get(`student.${w}`)!, released.weights.get(w.slice(9))!),
    ).toBe(true);
    // The EMA teacher of an unchanged student stays equal to it up to float rounding.
    expect(
      maxDiff(warm.state.tensors.get(`teacher.${w}`)!, released.weights.get(w.slice(9))!),
    ).toBeLessThan(1e-6);
    const head = "student.dino_head.mlp.0.weight";
    const fresh = await run(0, "fresh");
    expect(sameBits(warm.state.tensors.get(head)!, fresh.state.tensors.get(head)!)).toBe(false);

    const after = await run(3, "after");
    expect(
      sameBits(after.state.tensors.get(`student.${w}`)!, released.weights.get(w.slice(9))!),
    ).toBe(false);
  });

  it("from a network with heads (a teacher checkpoint): backbone and heads into student and teacher", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: SETS });
    const dir = mkdtempSync(join(tmpdir(), "dinov2-continue-heads-"));
    const first = await runTraining({
      resolved,
      dataset: DATA,
      outputDir: join(dir, "a"),
      iters: 2,
      threads: 1,
    });
    const teacherFile = saveTeacherForEval(
      join(dir, "eval"),
      first.state,
      stepConfigFromTrain(resolved).arch.backbone,
    );
    const second = await runTraining({
      resolved,
      dataset: DATA,
      outputDir: join(dir, "b"),
      iters: 0,
      threads: 1,
      initFrom: teacherFile,
    });
    for (const key of [
      "backbone.cls_token",
      "dino_head.last_layer.weight_v",
      "dino_head.mlp.0.weight",
    ]) {
      const t = first.state.tensors.get(`teacher.${key}`)!;
      expect(sameBits(second.state.tensors.get(`student.${key}`)!, t), key).toBe(true);
      expect(sameBits(second.state.tensors.get(`teacher.${key}`)!, t), key).toBe(true);
    }
    expect(second.state.iteration).toBe(0);
  });
});
