import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config/resolve.js";
import { paramGroupOptions, paramMultipliers } from "./param-groups.js";

const opts = { numLayers: 12, layerwiseDecay: 0.9, patchEmbedLrMult: 0.2 };
const lrMult = (name: string, o = opts) => paramMultipliers(name, o).lrMultiplier;

describe("paramMultipliers", () => {
  it("decays the lr by depth: embeddings at layer 0, block i at i + 1, the rest at the top", () => {
    expect(lrMult("backbone.cls_token")).toBe(0.9 ** 13);
    expect(lrMult("backbone.pos_embed")).toBe(0.9 ** 13);
    expect(lrMult("backbone.mask_token")).toBe(0.9 ** 13);
    expect(lrMult("backbone.register_tokens")).toBe(0.9 ** 13);
    expect(lrMult("backbone.blocks.0.attn.qkv.weight")).toBe(0.9 ** 12);
    expect(lrMult("backbone.blocks.11.mlp.fc2.weight")).toBe(0.9);
    expect(lrMult("backbone.norm.weight")).toBe(1);
    expect(lrMult("dino_head.mlp.0.weight")).toBe(1);
    expect(lrMult("ibot_head.last_layer.weight_v")).toBe(1);
  });

  it("multiplies patch_embed by patch_embed_lr_mult on top of the decay", () => {
    expect(lrMult("backbone.patch_embed.proj.weight")).toBe(0.9 ** 13 * 0.2);
    expect(lrMult("backbone.patch_embed.proj.bias", { ...opts, layerwiseDecay: 1 })).toBe(0.2);
  });

  it("reads the global block index of FSDP-chunked names", () => {
    const chunked = { ...opts, chunkedBlocks: true };
    expect(lrMult("backbone.blocks.2.7.attn.proj.weight", chunked)).toBe(0.9 ** 5); // block 7
    expect(lrMult("backbone.blocks._fsdp_wrapped_module.2.7.ls1.gamma", chunked)).toBe(0.9 ** 5);
  });

  it("turns weight decay off for biases, norms and LayerScale gammas only", () => {
    const wd = (name: string) => paramMultipliers(name, opts).wdMultiplier;
    expect(wd("backbone.blocks.0.attn.qkv.bias")).toBe(0);
    expect(wd("backbone.blocks.0.norm1.weight")).toBe(0);
    expect(wd("backbone.blocks.0.ls2.gamma")).toBe(0);
    expect(wd("backbone.norm.weight")).toBe(0);
    expect(wd("backbone.blocks.0.attn.qkv.weight")).toBe(1);
    expect(wd("backbone.pos_embed")).toBe(1);
    expect(wd("backbone.cls_token")).toBe(1);
    expect(wd("dino_head.last_layer.weight_g")).toBe(1);
  });

  it("flags the heads' last layers", () => {
    expect(paramMultipliers("dino_head.last_layer.weight_g", opts).isLastLayer).toBe(true);
    expect(paramMultipliers("ibot_head.last_layer.weight_v", opts).isLastLayer).toBe(true);
    expect(paramMultipliers("dino_head.mlp.4.weight", opts).isLastLayer).toBe(false);
  });

  it("refuses a block name without an index", () => {
    expect(() => paramMultipliers("backbone.blocks.x.attn.qkv.weight", opts)).toThrow(
      'paramMultipliers: no block index in parameter name; got "backbone.blocks.x.attn.qkv.weight"',
    );
  });

  it("takes its options from a resolved config", () => {
    const { cfg, derived } = resolveConfig({ preset: "vitl14" });
    expect(paramGroupOptions(cfg, derived)).toEqual({
      numLayers: 24,
      layerwiseDecay: 1.0,
      patchEmbedLrMult: 0.2,
      chunkedBlocks: true,
    });
  });
});
