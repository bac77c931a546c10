import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { parseConfig } from "./resolve.js";
import { configKeysAt } from "./schema.js";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

describe("TrainConfig schema", () => {
  it("fills every section with the official defaults", () => {
    const cfg = parseConfig({});
    expect(cfg.student.arch).toBe("vit_large");
    expect(cfg.optim).toMatchObject({
      base_lr: 0.004,
      scaling_rule: "sqrt_wrt_1024",
      layerwise_decay: 0.9,
    });
    expect(cfg.train.OFFICIAL_EPOCH_LENGTH).toBe(1250);
    expect(cfg.compute_precision.student.dino_head.mixed_precision.reduce_dtype).toBe("fp32");
    expect(cfg.compute_precision.teacher.dino_head.mixed_precision.reduce_dtype).toBe("fp16");
    expect(cfg.crops.blur_mode).toBe("released");
    expect(cfg.student.embed_dim).toBeUndefined();
    expect("lr" in cfg.optim).toBe(false);
  });

  it("strips the _memeff suffix and accepts our tiny arch names", () => {
    expect(parseConfig({ student: { arch: "vit_giant2_memeff" } }).student.arch).toBe("vit_giant2");
    expect(parseConfig({ student: { arch: "vit_tiny" } }).student.arch).toBe("vit_tiny");
    expect(parseConfig({ student: { arch: "vit_nano" } }).student.arch).toBe("vit_nano");
  });

  it("refuses a misspelled key, naming its path and the nearest key", () => {
    const err = configError(() => parseConfig({ student: { archh: "vit_small" } }));
    expect(err.path).toBe("student.archh");
    expect(err.hint).toBe('did you mean "student.arch"?');
    expect(err.message).toMatchInlineSnapshot(`
      "config: unknown key "student.archh"; expected a key of "student": arch, embed_dim, depth, num_heads, patch_size, drop_path_rate, layerscale, drop_path_uniform, pretrained_weights, ffn_layer, block_chunks, qkv_bias, proj_bias, ffn_bias, num_register_tokens, interpolate_antialias, interpolate_offset
        hint: did you mean "student.arch"?"
    `);
  });

  it("refuses an unknown top-level section", () => {
    const err = configError(() => parseConfig({ optimizer: {} }));
    expect(err.path).toBe("optimizer");
    expect(err.message).toMatchInlineSnapshot(
      `"config: unknown key "optimizer"; expected a key of the top level: MODEL, compute_precision, dino, ibot, train, student, teacher, optim, crops, evaluation, distillation"`,
    );
  });

  it("refuses an unknown enum value, naming the path and the allowed values", () => {
    const err = configError(() => parseConfig({ train: { centering: "sinkhorn" } }));
    expect(err.path).toBe("train.centering");
    expect(err.message).toMatchInlineSnapshot(
      `"config: invalid value at "train.centering"; got "sinkhorn", expected one of "centering", "sinkhorn_knopp""`,
    );
    expect(
      configError(() => parseConfig({ student: { arch: "vit_huge" } })).message,
    ).toMatchInlineSnapshot(
      `"config: invalid value at "student.arch"; got "vit_huge", expected one of "vit_small", "vit_base", "vit_large", "vit_giant2", "vit_tiny", "vit_nano""`,
    );
    expect(
      configError(() => parseConfig({ crops: { blur_mode: "both" } })).message,
    ).toMatchInlineSnapshot(
      `"config: invalid value at "crops.blur_mode"; got "both", expected one of "released", "paper""`,
    );
  });

  it("refuses a value of the wrong type or out of range, naming the path", () => {
    expect(
      configError(() => parseConfig({ optim: { base_lr: "fast" } })).message,
    ).toMatchInlineSnapshot(
      `"config: invalid value at "optim.base_lr"; got "fast", expected number"`,
    );
    expect(configError(() => parseConfig({ optim: { epochs: 0 } })).message).toMatchInlineSnapshot(
      `"config: invalid value at "optim.epochs"; got 0, expected a value >= 1"`,
    );
    expect(
      configError(() => parseConfig({ train: { batch_size_per_gpu: 2.5 } })).message,
    ).toMatchInlineSnapshot(
      `"config: invalid value at "train.batch_size_per_gpu"; got 2.5, expected an integer"`,
    );
    expect(
      configError(() => parseConfig({ crops: { local_crops_scale: [0.05] } })).message,
    ).toMatchInlineSnapshot(
      `"config: invalid value at "crops.local_crops_scale"; got [0.05], expected a list with >= 2 items"`,
    );
    expect(configError(() => parseConfig({ ibot: { mask_sample_probability: 2 } })).path).toBe(
      "ibot.mask_sample_probability",
    );
  });

  it("reports every problem, the first one's path on the error", () => {
    const err = configError(() =>
      parseConfig({ optim: { epochs: -1 }, crops: { global_crops_size: "x" } }),
    );
    expect(err.path).toBe("optim.epochs");
    expect(err.message).toMatchInlineSnapshot(`
      "config: invalid value at "optim.epochs"; got -1, expected a value >= 1
        also: invalid value at "crops.global_crops_size"; got "x", expected number"
    `);
  });

  it("lists the keys of a section and nothing below a value", () => {
    expect(configKeysAt(["teacher"])).toEqual([
      "momentum_teacher",
      "final_momentum_teacher",
      "warmup_teacher_temp",
      "teacher_temp",
      "warmup_teacher_temp_epochs",
    ]);
    expect(
      configKeysAt(["compute_precision", "student", "backbone", "mixed_precision"]),
    ).toHaveLength(3);
    expect(configKeysAt(["optim", "base_lr"])).toBeUndefined();
    expect(configKeysAt(["nope"])).toBeUndefined();
  });
});
