// `dinov2 eval-seg`, `eval-depth` and `viz` end to end on the built-in synthetic sets (tiny runs:
// a random ViT-S/14 at 28 px, a few head steps), checking the JSON line, table and files.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { evalDepthCommand } from "../../src/cli/commands/eval-depth.js";
import { evalSegCommand } from "../../src/cli/commands/eval-seg.js";
import { vizCommand } from "../../src/cli/commands/viz.js";
import { renderSynthetic } from "../../src/data/datasets/synthetic.js";
import { createRng } from "../../src/data/rng.js";

const root = mkdtempSync(join(tmpdir(), "dinov2-dense-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SMALL = [
  "--model",
  "vits14",
  "--image-size",
  "28",
  "--iterations",
  "3",
  "--train-size",
  "4",
  "--val-size",
  "2",
  "--batch-size",
  "2",
  "--pictures",
  "2",
];

async function run(
  cmd: typeof evalSegCommand,
  argv: string[],
): Promise<{ code: number | undefined; text: string; json: Record<string, unknown> }> {
  const out: string[] = [];
  const code = await cmd.invoke(argv, (s) => out.push(s));
  return {
    code,
    text: out.join("\n"),
    json: JSON.parse(out[out.length - 1]!) as Record<string, unknown>,
  };
}

// Generous timeouts: each test compiles ViT-S graphs (about 10 s of CPU on an idle machine).
describe("dense evaluations", { timeout: 300_000 }, () => {
  it("eval-seg trains the ms head (multi-scale + flip) and writes results, pictures and the loss curve", async () => {
    const dir = join(root, "seg");
    const r = await run(evalSegCommand, [
      ...SMALL,
      "--heads",
      "ms",
      "--ms-scales",
      "1,2",
      "--output-dir",
      dir,
    ]);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/\+ms\s+\d+\.\d+%/);
    for (const k of ["miou_ms", "pixel_acc_ms"]) {
      expect(r.json[k]).toBeGreaterThanOrEqual(0);
      expect(r.json[k]).toBeLessThanOrEqual(1);
    }
    for (const f of ["results.json", "loss_curve.png", "predictions.png"])
      expect(existsSync(join(dir, f))).toBe(true);
  });

  it("eval-depth trains the lin4 head and reports RMSE, abs rel and δ1", async () => {
    const dir = join(root, "depth");
    const r = await run(evalDepthCommand, [
      ...SMALL,
      "--gradient-loss",
      "0.5",
      "--output-dir",
      dir,
    ]);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/lin\. 4\s+2,5,8,11/); // the official ViT-S/B out indices
    for (const h of ["lin4"]) {
      expect(r.json[`rmse_${h}`]).toBeGreaterThan(0);
      expect(r.json[`delta1_${h}`]).toBeLessThanOrEqual(1);
    }
    expect(existsSync(join(dir, "predictions.png"))).toBe(true);
  });

  it("viz pca and viz match write PNGs", async () => {
    const paths = [0, 1].map((i) => join(root, `img${i}.png`));
    for (const [i, p] of paths.entries()) {
      const img = renderSynthetic(createRng(`viz-${i}`), 0, 56);
      await sharp(Buffer.from(img.data), { raw: { width: 56, height: 56, channels: 3 } })
        .png()
        .toFile(p);
    }
    const pca = await run(vizCommand, [
      "pca",
      ...paths,
      "--model",
      "vits14",
      "--image-size",
      "56",
      "--output",
      join(root, "pca.png"),
    ]);
    expect(pca.code).toBe(0);
    expect(pca.json.grid).toBe(4);
    const match = await run(vizCommand, [
      "match",
      ...paths,
      "--model",
      "vits14",
      "--image-size",
      "56",
      "--threshold",
      "0",
      "--output",
      join(root, "match.png"),
    ]);
    expect(match.code).toBe(0);
    expect(match.json.mutual_matches).toBeGreaterThan(0);
    expect(existsSync(join(root, "match.png"))).toBe(true);
  });
});
