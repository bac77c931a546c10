import { describe, expect, it } from "vitest";
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import { hfToOfficial, officialToHf } from "./hf-layout.js";
import { officialStateDict, TINY } from "./layouts.cases.js";
import { detectLayout, toOfficialStateDict } from "./layouts.js";

const prefixed = (sd: ReadonlyMap<string, HostTensor>, prefix: string) =>
  new Map([...sd].map(([k, t]) => [prefix + k, t]));

describe("HF key mapping", () => {
  it.each([
    ["mlp, no registers", TINY],
    ["swiglu with registers", { ...TINY, swiglu: true, registers: 4 }],
  ])("maps official -> HF -> official bitwise (%s)", (_, v) => {
    const official = officialStateDict(v);
    const hf = officialToHf(official);
    expect(hfToOfficial(hf)).toEqual(official);
    expect(officialToHf(hfToOfficial(hf))).toEqual(hf);
  });

  it("uses the names of convert_dinov2_to_hf.py and splits qkv rows into query/key/value", () => {
    const official = officialStateDict({ ...TINY, swiglu: true, registers: 1 });
    const hf = officialToHf(official);
    expect([...hf.keys()].filter((k) => !k.startsWith("encoder.layer.1."))).toMatchInlineSnapshot(`
      [
        "embeddings.cls_token",
        "embeddings.position_embeddings",
        "embeddings.register_tokens",
        "embeddings.mask_token",
        "embeddings.patch_embeddings.projection.weight",
        "embeddings.patch_embeddings.projection.bias",
        "encoder.layer.0.norm1.weight",
        "encoder.layer.0.norm1.bias",
        "encoder.layer.0.attention.attention.query.weight",
        "encoder.layer.0.attention.attention.key.weight",
        "encoder.layer.0.attention.attention.value.weight",
        "encoder.layer.0.attention.attention.query.bias",
        "encoder.layer.0.attention.attention.key.bias",
        "encoder.layer.0.attention.attention.value.bias",
        "encoder.layer.0.attention.output.dense.weight",
        "encoder.layer.0.attention.output.dense.bias",
        "encoder.layer.0.layer_scale1.lambda1",
        "encoder.layer.0.norm2.weight",
        "encoder.layer.0.norm2.bias",
        "encoder.layer.0.mlp.weights_in.weight",
        "encoder.layer.0.mlp.weights_in.bias",
        "encoder.layer.0.mlp.weights_out.weight",
        "encoder.layer.0.mlp.weights_out.bias",
        "encoder.layer.0.layer_scale2.lambda1",
        "layernorm.weight",
        "layernorm.bias",
      ]
    `);
    const qkv = official.get("blocks.0.attn.qkv.weight")!.data;
    const d = TINY.embedDim;
    expect(hf.get("encoder.layer.0.attention.attention.key.weight")!.data).toEqual(
      qkv.slice(d * d, 2 * d * d),
    );
    expect(hf.get("encoder.layer.0.attention.attention.value.bias")!.shape).toEqual([d]);
  });

  it("strips a task model's dinov2. prefix and ignores its classifier", () => {
    const hf = prefixed(officialToHf(officialStateDict()), "dinov2.");
    hf.set("classifier.weight", hostTensor("float32", [2, 16], new Float32Array(32)));
    expect(hfToOfficial(hf)).toEqual(officialStateDict());
    expect(
      officialToHf(officialStateDict(), { prefix: "dinov2_with_registers." }).has(
        "dinov2_with_registers.layernorm.weight",
      ),
    ).toBe(true);
  });

  it("refuses an unknown HF key and an incomplete query/key/value triple", () => {
    const hf = officialToHf(officialStateDict());
    hf.set("encoder.layer.0.attention.attention.rotary", hostTensor("float32", [1], [0]));
    expect(() => hfToOfficial(hf, "model.safetensors")).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: model.safetensors: key "encoder.layer.0.attention.attention.rotary": not a Dinov2Model backbone key
        hint: expected embeddings.*, encoder.layer.N.* or layernorm.*]
    `);
    const partial = officialToHf(officialStateDict());
    partial.delete("encoder.layer.1.attention.attention.key.bias");
    expect(() => hfToOfficial(partial, "model.safetensors")).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: model.safetensors: key "blocks.1.attn.qkv.bias": attention key missing; cannot build qkv]`,
    );
  });

  it("refuses an official key with no HF counterpart", () => {
    const sd = officialStateDict();
    sd.set("head.weight", hostTensor("float32", [1], [0]));
    expect(() => officialToHf(sd, { source: "x.pth" })).toThrowErrorMatchingInlineSnapshot(
      `[CheckpointError: x.pth: key "head.weight": not an official backbone key; it has no HF counterpart]`,
    );
  });
});

describe("layout detection and normalisation", () => {
  it("detects each layout from its keys", () => {
    expect(detectLayout(officialStateDict().keys())).toBe("official");
    expect(detectLayout(["module.cls_token", "module.blocks.0.norm1.weight"])).toBe("official");
    expect(detectLayout(["teacher.backbone.cls_token", "teacher.dino_head.mlp.0.weight"])).toBe(
      "training",
    );
    expect(detectLayout(["embeddings.cls_token"])).toBe("hf");
    expect(detectLayout(["dinov2.encoder.layer.0.norm1.weight", "classifier.bias"])).toBe("hf");
    expect(() =>
      detectLayout(["fc.weight", "fc.bias"], "resnet.pth"),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: resnet.pth: no DINOv2 backbone keys found (first keys: fc.weight, fc.bias)
        hint: expected official (cls_token, blocks.N.*), training (teacher.backbone.*) or HF (embeddings.*) keys]
    `);
  });

  it("takes teacher.backbone.* of a training checkpoint; drops heads, module. and the student", () => {
    const sd = new Map([
      ...prefixed(officialStateDict(), "teacher.backbone."),
      ...prefixed(officialStateDict({ ...TINY, depth: 1 }), "student.module.backbone."),
      ["teacher.dino_head.mlp.0.weight", hostTensor("float32", [3, 5], new Float32Array(15))],
      ["teacher.ibot_head.last_layer.weight_g", hostTensor("float32", [3, 1], new Float32Array(3))],
      ["dino_loss.center", hostTensor("float32", [1, 3], new Float32Array(3))],
    ]);
    expect(toOfficialStateDict(sd)).toEqual({ layout: "training", stateDict: officialStateDict() });
    const student = toOfficialStateDict(sd, { branch: "student" }).stateDict;
    expect(student).toEqual(officialStateDict({ ...TINY, depth: 1 }));
  });

  it("unchunks blocks.{chunk}.{i}.* (block_chunks > 0) in training and bare checkpoints", () => {
    const v = { ...TINY, depth: 4 }; // block_chunks = 2: chunk 0 holds blocks 0-1, chunk 1 holds 2-3
    const chunked = new Map(
      [...officialStateDict(v)].map(([k, t]) => [
        k.replace(/^blocks\.(\d+)\./, (_, i) => `blocks.${Math.floor(Number(i) / 2)}.${i}.`),
        t,
      ]),
    );
    expect(chunked.has("blocks.1.3.norm1.weight")).toBe(true);
    expect(toOfficialStateDict(chunked).stateDict).toEqual(officialStateDict(v));
    const training = prefixed(chunked, "module.teacher.backbone.");
    expect(toOfficialStateDict(training).stateDict).toEqual(officialStateDict(v));
  });

  it("refuses a training checkpoint without the requested branch", () => {
    const sd = prefixed(officialStateDict(), "teacher.backbone.");
    expect(() =>
      toOfficialStateDict(sd, { branch: "student", source: "t.pth" }),
    ).toThrowErrorMatchingInlineSnapshot(`
      [CheckpointError: t.pth: no student.backbone.* keys in this training checkpoint
        hint: is the student branch saved here?]
    `);
  });

  it("normalises an HF state dict to the official one", () => {
    const official = officialStateDict({ ...TINY, registers: 2 });
    expect(toOfficialStateDict(officialToHf(official))).toEqual({
      layout: "hf",
      stateDict: official,
    });
  });
});
