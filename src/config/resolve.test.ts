import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARCH_DIMS } from "./archs.js";
import { loadConfigFile, saveResolvedConfig } from "./config-file.js";
import { ConfigError } from "./errors.js";
import { parseConfig, resolveConfig } from "./resolve.js";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

const tmp = () => mkdtempSync(join(tmpdir(), "dinov2-config-"));

describe("resolveConfig merge order", () => {
  it("applies defaults <- preset <- file <- --set, later sources winning", () => {
    const { cfg } = resolveConfig({
      preset: "vitl14",
      file: { optim: { epochs: 7, warmup_epochs: 2 }, train: { batch_size_per_gpu: 16 } },
      sets: ["optim.epochs=9", "train.seed=5"],
    });
    expect(cfg.student.patch_size).toBe(14); // preset over default
    expect(cfg.optim.warmup_epochs).toBe(2); // file over preset
    expect(cfg.train.batch_size_per_gpu).toBe(16); // file over preset
    expect(cfg.optim.epochs).toBe(9); // --set over file
    expect(cfg.train.seed).toBe(5);
    expect(cfg.optim.base_lr).toBe(2.0e-4); // preset, untouched by later sources
    expect(cfg.optim.min_lr).toBe(1.0e-6); // default
  });

  it("parses --set values as YAML scalars and flow lists", () => {
    const { cfg } = resolveConfig({
      sets: [
        "optim.base_lr=1e-3",
        "ibot.separate_head=true",
        "train.dataset_path=ImageNet:split=VAL",
        "crops.global_crops_scale=[0.4, 1.0]",
        "student.layerscale=null",
        "MODEL.WEIGHTS=",
      ],
    });
    expect(cfg.optim.base_lr).toBe(0.001);
    expect(cfg.ibot.separate_head).toBe(true);
    expect(cfg.train.dataset_path).toBe("ImageNet:split=VAL");
    expect(cfg.crops.global_crops_scale).toEqual([0.4, 1.0]);
    expect(cfg.student.layerscale).toBeNull();
    expect(cfg.MODEL.WEIGHTS).toBe("");
  });

  it("refuses a --set with a misspelled path, naming it", () => {
    const err = configError(() => resolveConfig({ sets: ["optim.base_lrr=0.1"] }));
    expect(err.path).toBe("optim.base_lrr");
    expect(err.hint).toBe('did you mean "optim.base_lr"?');
    expect(err.message).toMatchInlineSnapshot(`
      "config: unknown key "optim.base_lrr"; expected a key of "optim": epochs, weight_decay, weight_decay_end, base_lr, lr, warmup_epochs, min_lr, clip_grad, freeze_last_layer_epochs, freeze_backbone_iters, scaling_rule, patch_embed_lr_mult, layerwise_decay, adamw_beta1, adamw_beta2, adamw_eps
        from --set optim.base_lrr=0.1
        hint: did you mean "optim.base_lr"?"
    `);
  });

  it("refuses a --set below a value, a malformed --set and a bad --set value", () => {
    expect(
      configError(() => resolveConfig({ sets: ["optim.epochs.x=1"] })).message,
    ).toMatchInlineSnapshot(`
      "config: cannot set "optim.epochs.x": "optim.epochs" is a value, not a section
        from --set optim.epochs.x=1"
    `);
    expect(
      configError(() => resolveConfig({ sets: ["optim.epochs"] })).message,
    ).toMatchInlineSnapshot(`
      "config: malformed override "optim.epochs"; expected key.path=value
        from --set optim.epochs"
    `);
    const bad = configError(() => resolveConfig({ sets: ["optim.epochs=ten"] }));
    expect(bad.path).toBe("optim.epochs");
    expect(bad.message).toMatchInlineSnapshot(
      `"config: invalid value at "optim.epochs"; got "ten", expected number"`,
    );
  });

  it("refuses an unknown preset with the list of names", () => {
    expect(configError(() => resolveConfig({ preset: "vitl-14" })).message).toMatchInlineSnapshot(`
      "config: unknown preset "vitl-14"; expected one of vitl14, vitg14, vitl16_short, vits14, vits14-demo
        hint: did you mean "vitl14"?"
    `);
  });
});

describe("derived values", () => {
  it("scales the lr by sqrt(batch * world / 1024) and counts iterations in official epochs", () => {
    const { derived } = resolveConfig();
    expect(derived.lr).toBe(0.001); // 0.004 * sqrt(64 / 1024)
    expect(derived).toMatchObject({
      worldSize: 1,
      globalBatchSize: 64,
      itersPerEpoch: 1250,
      totalIters: 125_000,
      warmupIters: 12_500,
      freezeLastLayerIters: 1250,
      teacherTempWarmupIters: 37_500,
      patchesPerGlobalCrop: 196, // (224 / 16)^2
      patchesPerLocalCrop: 36, // (96 / 16)^2
    });
    const eight = resolveConfig({ worldSize: 8, sets: ["optim.base_lr=0.002"] }).derived;
    expect(eight.globalBatchSize).toBe(512);
    expect(eight.lr).toBe(0.002 * Math.sqrt(512 / 1024));
  });

  it.each(Object.entries(ARCH_DIMS))(
    "takes the backbone sizes of %s from the arch table",
    (arch, dims) => {
      const { derived } = resolveConfig({ sets: [`student.arch=${arch}`] });
      expect(derived.backbone).toMatchObject({ ...dims, mlpRatio: 4, ffn: "mlp", imgSize: 224 });
    },
  );

  it("lets student.embed_dim/depth/num_heads override the arch, and maps ffn_layer", () => {
    const { derived } = resolveConfig({
      sets: ["student.arch=vit_small", "student.depth=4", "student.ffn_layer=swiglufused"],
    });
    expect(derived.backbone).toMatchObject({ embedDim: 384, depth: 4, numHeads: 6, ffn: "swiglu" });
    const custom = resolveConfig({ file: { student: { embed_dim: 64, depth: 3, num_heads: 4 } } });
    expect(custom.derived.backbone).toMatchObject({ embedDim: 64, depth: 3, numHeads: 4 });
  });

  it("refuses cross-field mistakes with the path", () => {
    const heads = configError(() =>
      resolveConfig({ file: { student: { embed_dim: 100, num_heads: 3 } } }),
    );
    expect(heads.path).toBe("student.num_heads");
    expect(heads.message).toMatchInlineSnapshot(`
      "config: student.num_heads does not divide the embed dim; got 100 / 3 heads
        hint: set student.embed_dim and student.num_heads so that the head dim is an integer"
    `);
    const crop = configError(() =>
      resolveConfig({ sets: ["student.patch_size=14", "crops.local_crops_size=96"] }),
    );
    expect(crop.path).toBe("crops.local_crops_size");
    expect(crop.message).toMatchInlineSnapshot(`
      "config: crops.local_crops_size is not a multiple of student.patch_size; got 96, patch 14
        hint: use 84 or 98"
    `);
    const warm = configError(() => resolveConfig({ sets: ["optim.epochs=5"] }));
    expect(warm.path).toBe("optim.warmup_epochs");
    const range = configError(() =>
      resolveConfig({ sets: ["ibot.mask_ratio_min_max=[0.5, 0.1]"] }),
    );
    expect(range.path).toBe("ibot.mask_ratio_min_max");
    expect(() => resolveConfig({ worldSize: 0 })).toThrow(ConfigError);
  });

  it("freezes the result and never writes derived values into the config", () => {
    const resolved = resolveConfig({ file: { optim: { lr: 123 } } });
    expect(Object.isFrozen(resolved.cfg.optim)).toBe(true);
    expect(Object.isFrozen(resolved.cfg.crops.global_crops_scale)).toBe(true);
    expect(Object.isFrozen(resolved.derived.backbone)).toBe(true);
    expect(resolved.cfg.optim.lr).toBe(123); // the official placeholder stays as given ...
    expect(resolved.derived.lr).toBe(0.001); // ... and the scaled lr lives in derived
    expect(parseConfig({}).crops.global_crops_scale).not.toBe(
      resolved.cfg.crops.global_crops_scale,
    );
    expect(Object.isFrozen(parseConfig({}).crops.global_crops_scale)).toBe(false);
  });
});

describe("config files", () => {
  it("loads YAML and JSON files", () => {
    const dir = tmp();
    writeFileSync(
      join(dir, "a.yaml"),
      "optim:\n  base_lr: 2.0e-04 # per 1024\nstudent:\n  arch: vit_small_memeff\n",
    );
    writeFileSync(join(dir, "b.json"), JSON.stringify({ optim: { epochs: 3, warmup_epochs: 1 } }));
    writeFileSync(join(dir, "empty.yaml"), "# nothing\n");
    const a = resolveConfig({ file: loadConfigFile(join(dir, "a.yaml")) });
    expect(a.cfg.optim.base_lr).toBe(2e-4);
    expect(a.cfg.student.arch).toBe("vit_small");
    expect(resolveConfig({ file: loadConfigFile(join(dir, "b.json")) }).derived.totalIters).toBe(
      3750,
    );
    expect(loadConfigFile(join(dir, "empty.yaml"))).toEqual({});
  });

  it("refuses a misspelled key in a file, naming its path", () => {
    const dir = tmp();
    writeFileSync(join(dir, "typo.yaml"), "optim:\n  base_lr: 0.001\n  warmup_epoch: 3\n");
    const err = configError(() => resolveConfig({ file: loadConfigFile(join(dir, "typo.yaml")) }));
    expect(err.path).toBe("optim.warmup_epoch");
    expect(err.hint).toBe('did you mean "optim.warmup_epochs"?');
  });

  it("refuses a missing, unparsable or non-mapping file", () => {
    const dir = tmp();
    writeFileSync(join(dir, "bad.yaml"), "optim: [1,\n");
    writeFileSync(join(dir, "list.yaml"), "- 1\n- 2\n");
    expect(() => loadConfigFile(join(dir, "missing.yaml"))).toThrow(/cannot read config file/);
    expect(() => loadConfigFile(join(dir, "bad.yaml"))).toThrow(/cannot parse config file/);
    expect(() => loadConfigFile(join(dir, "list.yaml"))).toThrow(
      /must hold a mapping; got \[1,2\]/,
    );
  });

  it("saves the resolved config so that it loads back to the same config", () => {
    const dir = tmp();
    const resolved = resolveConfig({ preset: "vits14-demo", sets: ["train.seed=3"] });
    for (const name of ["config.json", "config.yaml"]) {
      const path = saveResolvedConfig(resolved, join(dir, "out"), name);
      expect(path).toBe(join(dir, "out", name));
      expect(resolveConfig({ file: loadConfigFile(path) })).toEqual(resolved);
    }
    expect(readFileSync(join(dir, "out", "config.json"), "utf8")).not.toContain("derived");
  });
});
