// The README's path from an uncurated folder to training, as run: `curate synth` (the built-in
// synthetic pool), `curate run` (embed, dedup against the test set, cluster, retrieve look-alikes
// of the test set, export, report), then `dinov2 train --data <export>/images` for a few
// iterations. The README uses the vits14 preset at 56 px; this test uses a 1-block random ViT at
// 28 px and the tiny training config, to stay fast. The command sequence and flags are the same.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS } from "../../src/models/presets.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runCli(
    args,
    (t) => {
      out += `${t}\n`;
    },
    (t) => {
      out += `${t}\n`;
    },
  );
  return { code, out };
}

describe("curate -> train", () => {
  it("dinov2 train runs on the folder `curate run` exported from the synthetic pool", async () => {
    const dir = mkdtempSync(join(tmpdir(), "curate-train-"));
    const model = join(dir, "vit.safetensors");
    const b = createBackbone(
      { ...VIT_DEFAULTS, imgSize: 28, embedDim: 64, numHeads: 1, depth: 1 },
      0,
    );
    writeSafetensorsFile(model, new Map(b.weights));
    const pool = join(dir, "pool");
    expect((await cli(["curate", "synth", "--output", pool])).code).toBe(0);
    const curated = join(dir, "curated");
    const run = await cli([
      "curate",
      "run",
      "--input",
      join(pool, "pool"),
      "--curated",
      join(pool, "test"),
      "--against",
      join(pool, "test"),
      "--model",
      model,
      "--image-size",
      "28",
      "--db",
      join(dir, "db"),
      "--output",
      curated,
      "--threads",
      "1",
    ]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/export: \d+ images from "retrieved"/);
    expect(run.out).toContain(`next: dinov2 train --data ${join(curated, "images")}`);
    const images = readdirSync(join(curated, "images"));
    expect(images.length).toBe(
      readFileSync(join(curated, "files.txt"), "utf8").trim().split("\n").length,
    );
    const out = join(dir, "runs");
    const train = await cli([
      "train",
      "--preset",
      "vits14-demo",
      ...TINY_TRAIN_SETS.flatMap((s) => ["--set", s]),
      "--data",
      join(curated, "images"),
      "--iters",
      "2",
      "--threads",
      "1",
      // The memory choices go through the CLI too (keep everything, arena on).
      "--recompute",
      "none",
      "--mem-arena",
      "on",
      "--output-dir",
      out,
    ]);
    expect(train.code, train.out).toBe(0);
    const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(metrics.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(out, "export"))).toBe(true);
  }, 600_000);
});
