// When createEmbedder lowers to onnxruntime's fused kernels: by default on the cpu provider for
// fp32 graphs of covered architectures; asked for elsewhere, it is refused by name.
import { describe, expect, it } from "vitest";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS } from "../models/presets.js";
import { usesFused } from "./embedder.js";

const tiny = { ...VIT_DEFAULTS, imgSize: 28, embedDim: 32, depth: 1, numHeads: 2 };

describe("usesFused", () => {
  const mlp = createBackbone(tiny, 0);
  const swiglu = createBackbone({ ...tiny, ffnLayer: "swiglu" }, 0);

  it("is on by default for fp32 on the cpu provider, off for int8, other providers and SwiGLU", () => {
    expect(usesFused({}, mlp)).toBe(true);
    expect(usesFused({ provider: "cpu" }, mlp)).toBe(true);
    expect(usesFused({ int8: true }, mlp)).toBe(false);
    expect(usesFused({ provider: "webgpu" }, mlp)).toBe(false);
    expect(usesFused({}, swiglu)).toBe(false);
    expect(usesFused({ fused: false }, mlp)).toBe(false);
  });

  it("takes fused: true with int8, and refuses it on another provider", () => {
    expect(usesFused({ fused: true, int8: true }, mlp)).toBe(true);
    expect(() => usesFused({ fused: true, provider: "webgpu" }, mlp)).toThrow(
      /fused kernels are used on the cpu provider only; got "webgpu"/,
    );
  });
});
