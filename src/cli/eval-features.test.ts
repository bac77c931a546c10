import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { renderSynthetic } from "../data/datasets/synthetic.js";
import { createRng } from "../data/rng.js";
import { streamFeatures } from "../eval/feature-stream.js";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS } from "../models/presets.js";
import {
  checkSameClasses,
  clsHead,
  cropRecord,
  folderSplit,
  imageBatches,
  syntheticSplit,
} from "./eval-features.js";

const quiet = () => {};

async function classFolder(root: string, classes: readonly string[], n: number): Promise<string> {
  for (const [label, name] of classes.entries()) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const img = renderSynthetic(createRng(`${root}-${label}-${i}`), label % 10, 32);
      await sharp(Buffer.from(img.data), { raw: { width: 32, height: 32, channels: 3 } })
        .png()
        .toFile(join(dir, `${i}.png`));
    }
  }
  return root;
}

describe("streamed feature extraction", () => {
  it("decodes no image before its batch is asked for: at most one batch of pixels is alive", async () => {
    const split = syntheticSplit(1, 50);
    let decoded = 0;
    const render = (_: unknown, out: Float32Array, offset: number) => {
      decoded++;
      out.fill(0.5, offset, offset + 3 * 14 * 14);
    };
    const labels: number[] = [];
    const batches = imageBatches(split.spec, render, 14, 8, labels);
    let yielded = 0;
    for await (const b of batches) {
      yielded++;
      expect(b.length).toBeLessThanOrEqual(8 * 3 * 14 * 14);
      // Lazy: by the k-th batch exactly min(8k, 50) images have been decoded, never more.
      expect(decoded).toBe(Math.min(8 * yielded, 50));
    }
    expect(yielded).toBe(7);
    expect(labels).toEqual(Array.from({ length: 50 }, (_, i) => i % 10));
  });

  it("runs the backbone once per batch and hands each batch's rows on", async () => {
    const rt = await testRuntime();
    const opts = {
      ...VIT_DEFAULTS,
      imgSize: 28,
      embedDim: 16,
      depth: 1,
      numHeads: 2,
      patchSize: 14,
    };
    const backbone = createBackbone(opts, 3);
    const per = 3 * 28 * 28;
    const chunks = [new Float32Array(5 * per).fill(0.1), new Float32Array(6 * per).fill(-0.2)];
    const sizes: number[] = [];
    const n = await streamFeatures(
      rt,
      backbone,
      chunks,
      clsHead,
      { batchSize: 4, imageSize: 28 },
      (o, k) => {
        sizes.push(k);
        expect(o.x!.length).toBe(k * 16);
      },
    );
    expect(n).toBe(11);
    expect(sizes).toEqual([4, 4, 3]);
  });
});

describe("eval splits: bad input", () => {
  it("refuses class folders that differ between train and val, naming both folders", async () => {
    const root = mkdtempSync(join(tmpdir(), "dinov2-evalsplit-"));
    const train = await folderSplit(
      await classFolder(join(root, "train"), ["cat", "dog"], 1),
      quiet,
    );
    const val = await folderSplit(await classFolder(join(root, "val"), ["cat", "owl"], 1), quiet);
    expect(() => checkSameClasses(train, val)).toThrow(
      new RegExp(
        `class folders differ between ${join(root, "train")} and ${join(root, "val")}: only in ${join(root, "train")}: dog; only in ${join(root, "val")}: owl`,
      ),
    );
    expect(() => checkSameClasses(train, train)).not.toThrow();
  });

  it("crops a query box and refuses one that leaves nothing", () => {
    const rec = {
      data: Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i),
      channels: 3,
      height: 3,
      width: 4,
      label: 0,
    };
    const c = cropRecord(rec, [1, 1, 3, 3], "q.jpg");
    expect([c.width, c.height]).toEqual([2, 2]);
    // Row 1, columns 1..2: pixels 5 and 6 -> bytes 15..20.
    expect(Array.from(c.data.subarray(0, 6))).toEqual([15, 16, 17, 18, 19, 20]);
    expect(() => cropRecord(rec, [5, 0, 9, 2], "q.jpg")).toThrow(
      /q.jpg: bbox \[5, 0, 9, 2\] leaves nothing of a 4×3 image/,
    );
  });
});
