// Checkpoints of any width: files the project writes carry their architecture (safetensors
// __metadata__) and reload without flags; a bare checkpoint of a width the weights cannot tell the
// heads of is refused naming the command-line flags, and loads with --num-heads / --arch / --config.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodePng } from "../../src/eval/png.js";
import { writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone, loadBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../../src/models/presets.js";
import { exportTeacher } from "../../src/train/export.js";
import { runCliCaptured } from "../helpers/run-cli-captured.js";

// 96 wide with 3 heads of 32: not a released width, and not 64 dims per head.
const OPTS: VitOptions = {
  ...VIT_DEFAULTS,
  imgSize: 28,
  embedDim: 96,
  depth: 2,
  numHeads: 3,
  layerscale: 1,
  interpolateOffset: 0,
  interpolateAntialias: true,
};

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCliCaptured(args);
  return { code: r.code, out: r.outLines.join("\n"), err: r.errLines.join("\n") };
}

describe("checkpoints of non-standard widths", () => {
  const dir = mkdtempSync(join(tmpdir(), "dinov2-width-"));
  const { weights } = createBackbone(OPTS, 5);
  const exported = exportTeacher(join(dir, "export"), weights, OPTS);

  it("export/teacher_backbone.safetensors and export/hf reload with their full architecture", () => {
    for (const path of [exported.official, exported.hfDir]) {
      const b = loadBackbone(path);
      expect(b.options.numHeads, path).toBe(3);
      expect(b.options.embedDim).toBe(96);
    }
    // The official file records every option, interpolation and LayerScale included.
    const { options } = loadBackbone(exported.official);
    expect(options).toEqual({ ...OPTS });
  });

  it("a bare checkpoint fails naming the flags, and loads with --num-heads, --arch or --config", async () => {
    const bare = join(dir, "bare.safetensors");
    writeSafetensorsFile(bare, weights); // no __metadata__
    const images = join(dir, "img");
    mkdirSync(images);
    writeFileSync(
      join(images, "a.png"),
      encodePng({ width: 28, height: 28, data: new Uint8Array(28 * 28 * 3).fill(128) }),
    );
    const out = join(dir, "f.npy");
    const base = ["embed", "--input", images, "--output", out, "--image-size", "28"];
    const refused = await cli(...base, "--model", bare);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain(
      `--model ${bare}: a 96-wide checkpoint that does not record its architecture`,
    );
    expect(refused.err).toContain("pass --num-heads N, --arch PRESET, or --config");
    expect(refused.err).not.toMatch(/numHeads/);

    const ok = await cli(...base, "--model", bare, "--num-heads", "3");
    expect(ok.code, ok.err).toBe(0);
    const byHeads = readFileSync(out);
    const config = join(dir, "train.yaml");
    writeFileSync(
      config,
      [
        "student: { arch: vit_small, embed_dim: 96, num_heads: 3, depth: 2, patch_size: 14 }",
        "crops: { global_crops_size: 28, local_crops_size: 14 }",
      ].join("\n"),
    );
    const byConfig = await cli(...base, "--model", bare, "--config", config);
    expect(byConfig.code, byConfig.err).toBe(0);
    expect(readFileSync(out).equals(byHeads)).toBe(true);
    // --arch gives a preset's architecture; its width must match the weights.
    const wrong = await cli(...base, "--model", bare, "--arch", "vits14");
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/shape mismatch/);
    // Our own export needs no flag.
    const own = await cli(...base, "--model", exported.official);
    expect(own.code, own.err).toBe(0);
  }, 60_000);
});
