// `dinov2 convert` through the CLI (in process): a training .pth to an HF folder and back to the
// official .pth, the same tensors out as in; usage errors name what is wrong.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/io/index.js";
import { officialStateDict, TINY } from "../../src/io/layouts.cases.js";
import { torchSave } from "../../src/io/pth.cases.js";
import { runCliCaptured } from "../helpers/run-cli-captured.js";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCliCaptured(args);
  return { code: r.code, out: r.outLines.join("\n"), err: r.errLines.join("\n") };
}

describe("dinov2 convert", () => {
  const dir = mkdtempSync(join(tmpdir(), "dinov2-convert-"));
  const sd = officialStateDict({ ...TINY, embedDim: 64 }); // 64 wide: one head, no --num-heads
  const src = join(dir, "teacher_checkpoint.pth");
  const backbone = new Map([...sd].map(([k, t]) => [`backbone.${k}`, t] as const));
  writeFileSync(src, torchSave(backbone, "teacher"));

  it("converts a training .pth to an HF folder and that back to the official .pth", async () => {
    const hf = await cli("convert", src, join(dir, "hf"));
    expect(hf.code, hf.err).toBe(0);
    expect(hf.out).toMatch(/read .*teacher_checkpoint\.pth \(training layout\): ViT 64d x 2/);
    expect(hf.out).toMatch(/wrote hf: .*config\.json, .*model\.safetensors/);
    const pth = await cli("convert", join(dir, "hf"), join(dir, "back.pth"));
    expect(pth.code, pth.err).toBe(0);
    expect(loadCheckpoint(join(dir, "back.pth")).stateDict).toEqual(sd);
  });

  it("refuses a missing output path and an unknown format", async () => {
    const one = await cli("convert", src);
    expect([one.code, one.err]).toEqual([
      1,
      expect.stringMatching(/expected <input> <output>, got 1 paths/),
    ]);
    const fmt = await cli("convert", src, join(dir, "x"), "--format", "onnx");
    expect(fmt.err).toMatch(/--format: got "onnx", expected one of safetensors, hf, pth/);
  });
});
