// Parity with the reference fixtures: every set under $DINOV2_FIXTURES is discovered, and each
// checkpoint file present is loaded and compared bitwise with the weights PyTorch wrote.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureSets, fixturesRoot } from "../../test/helpers/fixtures.js";
import type { HostTensor } from "../core/host-tensor.js";
import { officialToHf } from "./hf-layout.js";
import { inferOptionsFromStateDict } from "./infer-options.js";
import { loadCheckpoint } from "./load-checkpoint.js";
import { readSafetensors, readSafetensorsFile, writeSafetensors } from "./safetensors.js";

const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
/** Every fixture set (test/fixtures-known.parity.test.ts fails when there is none). */
const SETS = existsSync(fixturesRoot()) ? fixtureSets() : [];

/** Same keys, and per key the same dtype, shape and bytes. */
function expectBitwiseEqual(
  got: ReadonlyMap<string, HostTensor>,
  want: ReadonlyMap<string, HostTensor>,
): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, w] of want) {
    const g = got.get(key)!;
    expect({ key, dtype: g.dtype, shape: g.shape }).toEqual({
      key,
      dtype: w.dtype,
      shape: w.shape,
    });
    const bytes = (t: HostTensor) =>
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    expect(bytes(g).equals(bytes(w)), `bytes of ${key}`).toBe(true);
  }
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

// A fixture root may hold any subset of the fixture kinds: an absent kind is a skip that names
// the root, never a silent pass; test/fixtures-known.parity.test.ts fails a root with none at all.
if (SETS.length === 0) it.skip(`no fixture set under ${fixturesRoot()}: skipped`, () => {});

describe.each(SETS)("fixture set $name", ({ dir }) => {
  const officialFile = join(dir, "official_vit.safetensors");
  const hasOfficial = existsSync(officialFile);
  const weights = (): Map<string, HostTensor> =>
    new Map(
      [...readSafetensorsFile(officialFile)]
        .filter(([k]) => k.startsWith("weights."))
        .map(([k, t]) => [k.slice("weights.".length), t]),
    );

  it.runIf(hasOfficial && existsSync(join(dir, "official_vit.pth")))(
    "official_vit.pth loads to the official weights bitwise",
    () => {
      const ckpt = loadCheckpoint(join(dir, "official_vit.pth"));
      expect(ckpt.layout).toBe("official");
      expectBitwiseEqual(ckpt.stateDict, weights());
    },
  );

  it.runIf(hasOfficial && existsSync(join(dir, "teacher_checkpoint.pth")))(
    "teacher_checkpoint.pth loads to the official weights bitwise, heads dropped",
    () => {
      const ckpt = loadCheckpoint(join(dir, "teacher_checkpoint.pth"));
      expect(ckpt.layout).toBe("training");
      expectBitwiseEqual(ckpt.stateDict, weights());
    },
  );

  it.runIf(hasOfficial)("options inferred from the weights match official_vit.json", () => {
    const cfg = readJson(join(dir, "official_vit.json")).config as Record<string, unknown>;
    const o = inferOptionsFromStateDict(weights());
    expect({
      embedDim: o.embedDim,
      depth: o.depth,
      patchSize: o.patchSize,
      imgSize: o.imgSize,
      numRegisterTokens: o.numRegisterTokens,
      ffnLayer: o.ffnLayer,
      mlpRatio: o.mlpRatio,
    }).toEqual({
      embedDim: cfg.embed_dim,
      depth: cfg.depth,
      patchSize: cfg.patch_size,
      imgSize: cfg.img_size,
      numRegisterTokens: cfg.num_register_tokens,
      ffnLayer: String(cfg.ffn_layer).startsWith("swiglu") ? "swiglu" : "mlp",
      mlpRatio: cfg.mlp_ratio,
    });
    if (o.numHeads !== undefined) expect(o.numHeads).toBe(cfg.num_heads);
  });

  const hfDirs = readdirSync(dir).filter((d) => d.startsWith("hf_dinov2") && isDir(join(dir, d)));
  it.each(hfDirs)(
    "%s maps HF -> official -> HF bitwise, with options from config.json",
    (hfName) => {
      const hfDir = join(dir, hfName);
      const ckpt = loadCheckpoint(hfDir);
      expect(ckpt.layout).toBe("hf");
      const raw = readSafetensorsFile(join(hfDir, "model.safetensors"));
      expectBitwiseEqual(officialToHf(ckpt.stateDict), raw);

      const cfg = readJson(join(hfDir, "config.json"));
      const registers =
        cfg.model_type === "dinov2_with_registers"
          ? ((cfg.num_register_tokens as number | undefined) ?? 4)
          : 0;
      expect(ckpt.options).toMatchObject({
        embedDim: cfg.hidden_size,
        depth: cfg.num_hidden_layers,
        numHeads: cfg.num_attention_heads,
        patchSize: cfg.patch_size,
        imgSize: cfg.image_size,
        mlpRatio: cfg.mlp_ratio,
        layerNormEps: cfg.layer_norm_eps,
        ffnLayer: cfg.use_swiglu_ffn === true ? "swiglu" : "mlp",
        numRegisterTokens: registers,
        interpolateOffset: 0,
        interpolateAntialias: registers > 0,
      });
      const d = cfg.hidden_size as number;
      const grid = (cfg.image_size as number) / (cfg.patch_size as number);
      expect(ckpt.stateDict.get("pos_embed")?.shape).toEqual([1, grid * grid + 1, d]);
      expect(ckpt.stateDict.get("blocks.0.attn.qkv.weight")?.shape).toEqual([3 * d, d]);
    },
  );

  const stFiles = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".safetensors"),
  );
  it.each(stFiles)("%s reads, rewrites and reads back to the same tensors", (file) => {
    const tensors = readSafetensorsFile(join(dir, file));
    expectBitwiseEqual(readSafetensors(writeSafetensors(tensors)), tensors);
  });
});
