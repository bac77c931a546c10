import { describe, expect, it } from "vitest";
import { hostTensor } from "../core/index.js";
import { lossValues } from "./loop.js";

const LOSS_NAMES = ["dino_global_crops_loss", "koleo_loss", "total"];

describe("loss check", () => {
  it("stops on a NaN loss term, naming the iteration and the term", () => {
    const out = Object.fromEntries(
      LOSS_NAMES.map((n) => [
        `loss.${n}`,
        hostTensor("float32", [], [n === "koleo_loss" ? Number.NaN : 1]),
      ]),
    );
    expect(() => lossValues(out, 41)).toThrowErrorMatchingInlineSnapshot(
      `[TrainingDivergedError: iteration 41: loss term koleo_loss is NaN; stopping (the last checkpoint is intact)]`,
    );
  });

  it("passes finite losses through", () => {
    const out = Object.fromEntries(
      LOSS_NAMES.map((n) => [`loss.${n}`, hostTensor("float32", [], [2])]),
    );
    expect(lossValues(out, 0).total).toBe(2);
  });
});
