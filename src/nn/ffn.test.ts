import { describe, expect, it } from "vitest";
import { swigluHidden as ioSwigluHidden } from "../io/checkpoint-options.js";
import { swigluHidden } from "./ffn.js";

describe("SwiGLU hidden size", () => {
  it("follows SwiGLUFFNFused (4096 for ViT-g's 1536) and agrees with checkpoint inference", () => {
    expect(swigluHidden(4 * 1536)).toBe(4096);
    for (const d of [48, 64, 384, 1024, 1536])
      expect(ioSwigluHidden(d, 4)).toBe(swigluHidden(4 * d));
  });
});
