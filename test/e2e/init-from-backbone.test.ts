// `train --init-from` a backbone checkpoint (a .pth in the released layout here): student and
// teacher backbones start from it, read through the loader every command uses; heads start fresh.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/index.js";
import { hostTensor } from "../../src/core/index.js";
import { writePthFile } from "../../src/io/index.js";
import { runTraining, teacherBackbone } from "../../src/train/loop.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const DATA = { kind: "synthetic", seed: 3, length: 64, size: 48 } as const;

describe("train --init-from a backbone .pth", () => {
  it("starts student and teacher from its weights and the heads from the seed", async () => {
    const resolved = resolveConfig({
      preset: "vits14-demo",
      sets: [...TINY_TRAIN_SETS, "train.OFFICIAL_EPOCH_LENGTH=2", "optim.epochs=2"],
    });
    const run = (dir: string, initFrom?: string) =>
      runTraining({
        resolved,
        dataset: DATA,
        outputDir: mkdtempSync(join(tmpdir(), dir)),
        iters: 0,
        threads: 1,
        ...(initFrom ? { initFrom } : {}),
      });
    const fresh = await run("dinov2-fresh-");
    // the seed's backbone, shifted by 1 so that no weight matches the fresh start
    const backbone = new Map(
      [...teacherBackbone(fresh.state)].map(([k, t]) => [
        k,
        hostTensor(
          "float32",
          t.shape,
          (t.data as Float32Array).map((v) => v + 1),
        ),
      ]),
    );
    const pth = join(mkdtempSync(join(tmpdir(), "dinov2-pth-")), "backbone.pth");
    writePthFile(pth, backbone);
    const start = await run("dinov2-init-", pth);
    for (const [key, t] of start.state.tensors) {
      const m = /^(student|teacher)\.backbone\.(.*)$/.exec(key);
      const want = m ? backbone.get(m[2]!) : fresh.state.tensors.get(key);
      expect(t, key).toEqual(want);
    }
  });
});
