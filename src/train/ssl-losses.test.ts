// The uniform-prediction levels of the reported DINO terms, hand-computed from the official
// scaling (dinov2/train/ssl_meta_arch.py: dino_local_crops_loss = dino_loss(local, teacher) /
// (n_global_crops_loss_terms + n_local_crops_loss_terms), dino_global_crops_loss = dino_loss(
// global, teacher) * loss_scales / the same count; DINOLoss adds loss.mean() over crop pairs).
// A uniform student scores ln K against any target, so each pair adds ln K.
import { describe, expect, it } from "vitest";
import { uniformDinoLevels } from "./ssl-losses.js";

describe("uniformDinoLevels", () => {
  it("the demo: 4 local crops, 1024 prototypes", () => {
    // terms = (2 - 1) * 2 + 4 * 2 = 10; local pairs 4 * 2 = 8; global: 1 pair * loss_scales 2.
    const l = uniformDinoLevels(4, 1024);
    expect(l.dino_local_crops_loss).toBeCloseTo((8 * Math.log(1024)) / 10, 12); // 5.5452
    expect(l.dino_global_crops_loss).toBeCloseTo((2 * Math.log(1024)) / 10, 12); // 1.3863
  });

  it("the ViT-S/14 recipe: 8 local crops, 65,536 prototypes; no local crops", () => {
    // terms = 2 + 16 = 18.
    const l = uniformDinoLevels(8, 65536);
    expect(l.dino_local_crops_loss).toBeCloseTo((16 * Math.log(65536)) / 18, 12);
    expect(l.dino_global_crops_loss).toBeCloseTo((2 * Math.log(65536)) / 18, 12);
    // Without local crops: terms = 2 + max(0 * 2, 1) = 3 (ssl_meta_arch.py:147), no local term.
    const g = uniformDinoLevels(0, 256);
    expect(g.dino_local_crops_loss).toBeUndefined();
    expect(g.dino_global_crops_loss).toBeCloseTo((2 * Math.log(256)) / 3, 12);
  });
});
