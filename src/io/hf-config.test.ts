import { describe, expect, it } from "vitest";
import type { CheckpointOptions } from "./checkpoint-options.js";
import { hfConfigToOptions, optionsToHfConfig } from "./hf-config.js";

/** config.json of facebook/dinov2-small as save_pretrained writes it (abridged). */
const DINOV2_SMALL = {
  architectures: ["Dinov2Model"],
  hidden_act: "gelu",
  hidden_size: 384,
  image_size: 518,
  layer_norm_eps: 1e-6,
  layerscale_value: 1.0,
  mlp_ratio: 4,
  model_type: "dinov2",
  num_attention_heads: 6,
  num_channels: 3,
  num_hidden_layers: 12,
  patch_size: 14,
  qkv_bias: true,
  use_swiglu_ffn: false,
};

describe("HF config.json <-> options", () => {
  it("reads Dinov2Model: no interpolation offset, no antialias", () => {
    expect(hfConfigToOptions(DINOV2_SMALL)).toEqual({
      embedDim: 384,
      depth: 12,
      numHeads: 6,
      patchSize: 14,
      imgSize: 518,
      inChans: 3,
      mlpRatio: 4,
      ffnLayer: "mlp",
      numRegisterTokens: 0,
      layerNormEps: 1e-6,
      interpolateAntialias: false,
      interpolateOffset: 0,
      layerscale: 1,
      qkvBias: true,
      projBias: true,
      ffnBias: true,
    });
  });

  it("reads Dinov2WithRegistersModel: registers and antialiased interpolation", () => {
    const cfg = { ...DINOV2_SMALL, model_type: "dinov2_with_registers", num_register_tokens: 4 };
    const opts = hfConfigToOptions(cfg);
    expect(opts.numRegisterTokens).toBe(4);
    expect(opts.interpolateAntialias).toBe(true);
    expect(opts.interpolateOffset).toBe(0);
    expect(hfConfigToOptions({ ...DINOV2_SMALL, use_swiglu_ffn: true }).ffnLayer).toBe("swiglu");
  });

  it("takes HF's defaults for missing fields", () => {
    const opts = hfConfigToOptions({ model_type: "dinov2" });
    expect(opts).toMatchObject({
      embedDim: 768,
      depth: 12,
      numHeads: 12,
      patchSize: 14,
      imgSize: 224,
    });
    expect(hfConfigToOptions({ model_type: "dinov2_with_registers" }).numRegisterTokens).toBe(4);
  });

  it.each<[string, CheckpointOptions]>([
    ["plain", hfConfigToOptions(DINOV2_SMALL)],
    [
      "registers + swiglu",
      {
        ...hfConfigToOptions(DINOV2_SMALL),
        numRegisterTokens: 4,
        interpolateAntialias: true,
        ffnLayer: "swiglu",
      },
    ],
  ])("round-trips options -> config.json -> options (%s)", (_, opts) => {
    expect(hfConfigToOptions(optionsToHfConfig(opts))).toEqual(opts);
  });

  it("writes the architecture and model_type that from_pretrained dispatches on", () => {
    const reg = optionsToHfConfig({ ...hfConfigToOptions(DINOV2_SMALL), numRegisterTokens: 4 });
    expect(reg).toMatchObject({
      architectures: ["Dinov2WithRegistersModel"],
      model_type: "dinov2_with_registers",
    });
    expect(optionsToHfConfig(hfConfigToOptions(DINOV2_SMALL))).toMatchObject(DINOV2_SMALL);
  });

  it("refuses configs it cannot honour, naming the field", () => {
    expect(() =>
      hfConfigToOptions({ model_type: "vit" }, "vit/config.json"),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: vit/config.json: key "model_type": "vit" is not a DINOv2 model type
        hint: expected one of dinov2, dinov2_with_registers]
    `);
    expect(() =>
      hfConfigToOptions({ ...DINOV2_SMALL, hidden_act: "relu" }, "c.json"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: c.json: key "hidden_act": "relu" is not supported; expected "gelu"]`,
    );
    expect(() =>
      hfConfigToOptions({ ...DINOV2_SMALL, hidden_size: "384" }, "c.json"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: c.json: key "hidden_size": got "384", expected a non-negative integer]`,
    );
    expect(() => optionsToHfConfig({ embedDim: 384 })).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: config.json: key "imgSize": is required to write an HF config]`,
    );
  });
});
