// `dinov2 eval-knn` and `dinov2 eval-linear` on labeled folders (class subfolders) end to end.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { evalKnnCommand } from "../../src/cli/commands/eval-knn.js";
import { evalLinearCommand } from "../../src/cli/commands/eval-linear.js";
import { renderSynthetic } from "../../src/data/datasets/synthetic.js";
import { createRng } from "../../src/data/rng.js";

let root = "";

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "dinov2-eval-"));
  for (const [split, n] of [
    ["train", 6],
    ["val", 3],
  ] as const) {
    for (const label of [0, 1]) {
      const dir = join(root, split, `class${label}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < n; i++) {
        const img = renderSynthetic(createRng(`${split}-${label}-${i}`), label, 64);
        await sharp(Buffer.from(img.data), { raw: { width: 64, height: 64, channels: 3 } })
          .png()
          .toFile(join(dir, `${i}.png`));
      }
    }
  }
});

/** `v` is hits / n for a whole number of hits in 0..n. */
function expectHitsOf(v: number, n: number): void {
  const hits = Math.round(v * n);
  expect(hits).toBeGreaterThanOrEqual(0);
  expect(hits).toBeLessThanOrEqual(n);
  expect(Math.abs(v - hits / n), `${v} is not a count of hits / ${n}`).toBeLessThan(1e-9);
}

async function run(
  cmd: typeof evalKnnCommand,
  argv: string[],
): Promise<{ code: number | undefined; json: Record<string, unknown> }> {
  const out: string[] = [];
  const code = await cmd.invoke(argv, (s) => out.push(s));
  return { code, json: JSON.parse(out[out.length - 1]!) as Record<string, unknown> };
}

describe("eval commands", () => {
  it("eval-knn reports top-1 and top-5 for every k that fits the train set", async () => {
    const { code, json } = await run(evalKnnCommand, [
      "--model",
      "vits14",
      "--train",
      join(root, "train"),
      "--val",
      join(root, "val"),
      "--image-size",
      "56",
      "--ks",
      "3,5,100",
    ]);
    expect(code).toBe(0);
    const top1 = json.knn_top1 as Record<string, number>;
    expect(Object.keys(top1).sort()).toEqual(["3", "5"]);
    // Top-1 over the 6 val images: a count of hits / 6 (a wrong denominator, e.g. padded rows,
    // or a NaN fails this).
    for (const v of Object.values(top1)) expectHitsOf(v, 6);
    expect((json.knn_top5 as Record<string, number>)["3"]).toBe(1); // 2 classes: top-5 always holds
  });

  it("eval-linear trains a head per learning rate and reports the best", async () => {
    const { code, json } = await run(evalLinearCommand, [
      "--model",
      "vits14",
      "--train",
      join(root, "train"),
      "--val",
      join(root, "val"),
      "--image-size",
      "56",
      "--iterations",
      "50",
    ]);
    expect(code).toBe(0);
    expectHitsOf(json.linear_top1 as number, 6);
    expect(typeof json.best_lr).toBe("number");
  });

  it("refuses a folder without class subfolders", async () => {
    await expect(
      run(evalKnnCommand, [
        "--model",
        "vits14",
        "--train",
        join(root, "train", "class0"),
        "--val",
        join(root, "val"),
        "--image-size",
        "56",
      ]),
    ).rejects.toThrow(/needs class subfolders/);
  });
});
