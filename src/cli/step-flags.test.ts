// --recompute / --mem-arena become the step implementation and session option runTraining gets.
import { describe, expect, it } from "vitest";
import { implFor } from "../train/step-config.js";
import { stepChoicesFromFlags } from "./step-flags.js";

describe("--recompute and --mem-arena", () => {
  it("leave the provider's defaults alone when absent", () => {
    expect(stepChoicesFromFlags({}, "cpu")).toEqual({});
  });

  it("set the activation budget (or none) on the provider's implementation", () => {
    const cpu = implFor("cpu");
    expect(stepChoicesFromFlags({ recompute: "2.5" }, "cpu").impl).toEqual({
      ...cpu,
      recomputeBudgetGiB: 2.5,
    });
    expect(stepChoicesFromFlags({ recompute: "0" }, "cpu").impl?.recomputeBudgetGiB).toBe(0);
    const none = stepChoicesFromFlags({ recompute: "none" }, "cpu").impl!;
    expect("recomputeBudgetGiB" in none).toBe(false);
    expect(none.packing).toBe(cpu.packing);
    expect(stepChoicesFromFlags({ "mem-arena": "on" }, "cpu")).toEqual({ memArena: true });
    expect(stepChoicesFromFlags({ "mem-arena": "off" }, "webgpu")).toEqual({ memArena: false });
  });

  it("refuse what is not a budget or a switch, naming the flag", () => {
    for (const bad of ["-1", "", "lots", "NaN"])
      expect(() => stepChoicesFromFlags({ recompute: bad }, "cpu")).toThrow(/--recompute/);
    expect(() => stepChoicesFromFlags({ "mem-arena": "yes" }, "cpu")).toThrow(/mem-arena/);
  });
});
