import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostTensor } from "../core/host-tensor.js";
import { hfConfigToOptions, optionsToHfConfig } from "./hf-config.js";
import { officialToHf } from "./hf-layout.js";
import { officialShapes, officialStateDict, TINY } from "./layouts.cases.js";
import { loadCheckpoint, validateStateDict } from "./load-checkpoint.js";
import { torchSave } from "./pth.cases.js";
import { writeSafetensors, writeSafetensorsFile } from "./safetensors.js";

const tmp = () => mkdtempSync(join(tmpdir(), "ckpt-"));
const REG = { ...TINY, registers: 4, swiglu: true, embedDim: 16 };
const hfOptions = {
  ...hfConfigToOptions({ model_type: "dinov2_with_registers" }),
  embedDim: 16,
  depth: 2,
  numHeads: 2,
  patchSize: 2,
  imgSize: 6,
  ffnLayer: "swiglu" as const,
};

describe("loadCheckpoint", () => {
  it("loads a bare official state dict from .safetensors and infers options", () => {
    const file = join(tmp(), "backbone.safetensors");
    writeSafetensorsFile(file, officialStateDict());
    const ckpt = loadCheckpoint(file, { numHeads: 2 });
    expect(ckpt.layout).toBe("official");
    expect(ckpt.stateDict).toEqual(officialStateDict());
    expect(ckpt.options).toMatchObject({
      embedDim: 8,
      depth: 2,
      numHeads: 2,
      imgSize: 6,
      interpolateOffset: 0.1,
    });
  });

  it("loads bare and teacher_checkpoint.pth files, sniffing the zip whatever the extension", () => {
    const dir = tmp();
    writeFileSync(join(dir, "bare.pth"), torchSave(officialStateDict(REG)));
    const training = new Map([
      ...[...officialStateDict(REG)].map(([k, t]) => [`backbone.${k}`, t] as const),
      ["dino_head.mlp.0.weight", hostTensor("float32", [2, 3], new Float32Array(6))],
    ]);
    writeFileSync(join(dir, "teacher.bin"), torchSave(training, "teacher"));
    const bare = loadCheckpoint(join(dir, "bare.pth"));
    const teacher = loadCheckpoint(join(dir, "teacher.bin"));
    expect([bare.layout, teacher.layout]).toEqual(["official", "training"]);
    expect(teacher.stateDict).toEqual(bare.stateDict);
    expect(bare.stateDict).toEqual(officialStateDict(REG));
    expect(bare.options).toMatchObject({
      numRegisterTokens: 4,
      ffnLayer: "swiglu",
      interpolateAntialias: true,
    });
  });

  it("loads an HF directory with options from config.json", () => {
    const dir = tmp();
    writeSafetensorsFile(join(dir, "model.safetensors"), officialToHf(officialStateDict(REG)), {
      format: "pt",
    });
    writeFileSync(join(dir, "config.json"), JSON.stringify(optionsToHfConfig(hfOptions)));
    const ckpt = loadCheckpoint(dir);
    expect(ckpt.layout).toBe("hf");
    expect(ckpt.file).toBe(join(dir, "model.safetensors"));
    expect(ckpt.stateDict).toEqual(officialStateDict(REG));
    expect(ckpt.options).toMatchObject({
      ...hfOptions,
      interpolateOffset: 0,
      interpolateAntialias: true,
    });
  });

  it("gives an HF file without config.json the HF interpolation (no offset)", () => {
    const file = join(tmp(), "model.safetensors");
    writeSafetensorsFile(file, officialToHf(officialStateDict()));
    const ckpt = loadCheckpoint(file);
    expect(ckpt.layout).toBe("hf");
    expect(ckpt.options).toMatchObject({ interpolateOffset: 0, interpolateAntialias: false });
  });

  it("loads a sharded HF checkpoint through model.safetensors.index.json", () => {
    const dir = tmp();
    const hf = [...officialToHf(officialStateDict())];
    const half = Math.floor(hf.length / 2);
    writeFileSync(join(dir, "a.safetensors"), writeSafetensors(new Map(hf.slice(0, half))));
    writeFileSync(join(dir, "b.safetensors"), writeSafetensors(new Map(hf.slice(half))));
    const weightMap = Object.fromEntries(
      hf.map(([k], i) => [k, i < half ? "a.safetensors" : "b.safetensors"]),
    );
    writeFileSync(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: weightMap }),
    );
    expect(loadCheckpoint(dir).stateDict).toEqual(officialStateDict());
  });

  it("refuses a config.json that disagrees with the weights, naming the field", () => {
    const dir = tmp();
    writeSafetensorsFile(join(dir, "model.safetensors"), officialToHf(officialStateDict(REG)));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify(optionsToHfConfig({ ...hfOptions, depth: 3 })),
    );
    expect(() => loadCheckpoint(dir)).toThrow(
      /config\.json: key "num_hidden_layers": says depth = 3, but the weights in .* have 2/,
    );
  });

  it("refuses a missing path and a directory without weights", () => {
    const dir = tmp();
    mkdirSync(join(dir, "empty"));
    expect(() => loadCheckpoint(join(dir, "nope.pth"))).toThrow(
      /nope\.pth: no such file or directory/,
    );
    expect(() => loadCheckpoint(join(dir, "empty"))).toThrow(
      /empty: directory holds none of model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin/,
    );
  });
});

describe("validateStateDict", () => {
  const expected = officialShapes(TINY);

  it("accepts a state dict with exactly the expected keys and shapes", () => {
    expect(() => validateStateDict(expected, officialStateDict())).not.toThrow();
  });

  it("refuses the first mismatching key with both shapes", () => {
    const got = officialStateDict({ ...TINY, grid: 4 });
    expect(() => validateStateDict(expected, got, "vits.pth")).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: vits.pth: key "pos_embed": shape mismatch; got [1, 17, 8], expected [1, 10, 8]
        hint: do the model options (embedDim, depth, patchSize, imgSize, registers, ffnLayer) match the checkpoint?]
    `);
  });

  it("refuses the first missing key, then the first unexpected key", () => {
    const missing = officialStateDict();
    missing.delete("blocks.1.ls2.gamma");
    expect(() => validateStateDict(expected, missing, "a.pth")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: a.pth: key "blocks.1.ls2.gamma": missing; expected shape [8]]`,
    );
    const extra = officialStateDict();
    extra.set("head.weight", hostTensor("float32", [2], [0, 0]));
    expect(() => validateStateDict(expected, extra, "b.pth")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: b.pth: key "head.weight": unexpected key with shape [2]]`,
    );
  });
});
