import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OFFICIAL_TRAIN_YAML, SSL_DEFAULT_CONFIG_YAML } from "./official-yaml.cases.js";
import { PRESET_NAMES } from "./presets.js";
import { parseConfig, resolveConfig } from "./resolve.js";

describe("official config files", () => {
  it("the schema defaults equal ssl_default_config.yaml", () => {
    const official = parseConfig(parse(SSL_DEFAULT_CONFIG_YAML));
    const { lr, ...optim } = official.optim;
    expect(lr).toBe(0); // the official placeholder, accepted and ignored
    expect({ ...official, optim }).toEqual(parseConfig({}));
  });

  it.each(Object.entries(OFFICIAL_TRAIN_YAML))(
    "preset %s equals the official YAML file",
    (name, text) => {
      const fromPreset = resolveConfig({ preset: name });
      const fromFile = resolveConfig({ file: parse(text) });
      expect(fromPreset).toEqual(fromFile);
    },
  );

  it("vitl14 resolves to ViT-L/14 with SwiGLU, Sinkhorn-Knopp and the long schedule", () => {
    const { cfg, derived } = resolveConfig({ preset: "vitl14" });
    expect(derived.backbone).toMatchObject({
      embedDim: 1024,
      depth: 24,
      numHeads: 16,
      ffn: "swiglu",
    });
    expect(derived.backbone.patchSize).toBe(14);
    expect(cfg.train.centering).toBe("sinkhorn_knopp");
    expect(cfg.ibot.head_bottleneck_dim).toBe(256); // only the DINO bottleneck grows to 384
    expect(derived.totalIters).toBe(625_000);
    expect(derived.warmupIters).toBe(100_000);
    expect(derived.lr).toBe(2.0e-4 * Math.sqrt(32 / 1024));
    expect([derived.patchesPerGlobalCrop, derived.patchesPerLocalCrop]).toEqual([256, 49]);
  });

  it("vitg14 on 256 GPUs gives the paper's lr of about 3.5e-4 at batch 3072", () => {
    const { derived } = resolveConfig({ preset: "vitg14", worldSize: 256 });
    expect(derived.globalBatchSize).toBe(3072);
    expect(derived.lr).toBeCloseTo(0.00034641016151377546, 18);
    expect(derived.backbone).toMatchObject({
      embedDim: 1536,
      depth: 40,
      numHeads: 24,
      ffn: "swiglu",
    });
  });

  it("vitl16_short is the default config with 4 block chunks", () => {
    const { cfg } = resolveConfig({ preset: "vitl16_short" });
    expect({ ...cfg, student: { ...cfg.student, block_chunks: 0 } }).toEqual(parseConfig({}));
  });
});

describe("our presets", () => {
  it.each(PRESET_NAMES)("preset %s resolves", (name) => {
    expect(() => resolveConfig({ preset: name })).not.toThrow();
  });

  it("vits14 has the ViT-S/14 recipe shapes", () => {
    const { cfg, derived } = resolveConfig({ preset: "vits14" });
    expect(derived.backbone).toMatchObject({
      embedDim: 384,
      depth: 12,
      numHeads: 6,
      patchSize: 14,
    });
    expect(cfg.crops).toMatchObject({
      global_crops_size: 224,
      local_crops_number: 8,
      local_crops_size: 98,
    });
    expect([cfg.dino.head_n_prototypes, cfg.ibot.head_n_prototypes]).toEqual([65536, 65536]);
    expect(cfg.student.drop_path_rate).toBe(0.3);
  });

  it("vits14-demo is a 192-wide 6-block ViT/14 on 4x4 and 2x2 patch grids", () => {
    const { cfg, derived } = resolveConfig({ preset: "vits14-demo" });
    expect(derived.backbone).toMatchObject({ embedDim: 192, depth: 6, numHeads: 3, patchSize: 14 });
    expect([derived.patchesPerGlobalCrop, derived.patchesPerLocalCrop]).toEqual([16, 4]);
    expect(derived.totalIters).toBe(500);
    expect(cfg.compute_precision.student.backbone.mixed_precision.param_dtype).toBe("fp32");
    expect(cfg.compute_precision.grad_scaler).toBe(false);
  });
});
