import { describe, expect, it } from "vitest";
import { inferOptionsFromStateDict } from "./infer-options.js";
import { officialStateDict, TINY } from "./layouts.cases.js";

describe("inferOptionsFromStateDict", () => {
  it("reads width, depth, patch, image size, ratio and biases off the shapes", () => {
    expect(inferOptionsFromStateDict(officialStateDict(), { numHeads: 2 })).toEqual({
      embedDim: 8,
      depth: 2,
      numHeads: 2,
      patchSize: 2,
      imgSize: 6,
      inChans: 3,
      mlpRatio: 4,
      ffnLayer: "mlp",
      numRegisterTokens: 0,
      layerNormEps: 1e-6,
      interpolateAntialias: false,
      interpolateOffset: 0.1,
      layerscale: 1,
      qkvBias: true,
      projBias: true,
      ffnBias: true,
    });
  });

  it("detects SwiGLU and registers, with the released models' register interpolation", () => {
    const opts = inferOptionsFromStateDict(
      officialStateDict({ ...TINY, embedDim: 16, swiglu: true, registers: 4 }),
    );
    expect(opts).toMatchObject({
      ffnLayer: "swiglu",
      mlpRatio: 4,
      numRegisterTokens: 4,
      interpolateAntialias: true,
      interpolateOffset: 0,
    });
  });

  it("defaults heads only for the released widths", () => {
    expect(inferOptionsFromStateDict(officialStateDict()).numHeads).toBeUndefined();
    const small = inferOptionsFromStateDict(
      officialStateDict({ ...TINY, embedDim: 384, depth: 1 }),
    );
    expect(small.numHeads).toBe(6);
  });

  it("refuses a state dict without the patch embedding, and a gap in the blocks", () => {
    const sd = officialStateDict();
    sd.delete("patch_embed.proj.weight");
    expect(() =>
      inferOptionsFromStateDict(sd, { source: "x.pth" }),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: x.pth: key "patch_embed.proj.weight": missing; cannot infer backbone options
        hint: is this an official DINOv2 backbone state dict?]
    `);
    const gap = new Map(
      [...officialStateDict({ ...TINY, depth: 3 })].filter(([k]) => !k.startsWith("blocks.1.")),
    );
    expect(() =>
      inferOptionsFromStateDict(gap, { source: "gap.pth" }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: gap.pth: key "blocks.1": missing, yet blocks up to 2 exist]`,
    );
  });
});
