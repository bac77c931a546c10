// The SSL loader: ordered, seeded batches; the same bytes in-thread and on worker threads.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { SslBatch } from "./collate.js";
import { scanImageFolder } from "./datasets/image-folder.js";
import { createSslLoader, type SslLoaderOptions } from "./loader.js";

const base: SslLoaderOptions = {
  dataset: { kind: "synthetic", seed: 1, length: 10, size: 40 },
  seed: 7,
  batchSize: 3,
  patchSize: 8,
  augmentation: { globalCropsSize: 32, localCropsSize: 16, localCropsNumber: 2 },
  numBatches: 4,
};

async function collect(opts: SslLoaderOptions): Promise<SslBatch[]> {
  const loader = createSslLoader(opts);
  const out: SslBatch[] = [];
  for await (const b of loader) out.push(b);
  await loader.close();
  return out;
}

describe("createSslLoader", () => {
  it("yields numBatches collated batches in-thread, then stops", async () => {
    const batches = await collect({ ...base, workers: 0 });
    expect(batches.length).toBe(4);
    const b = batches[0]!;
    expect([b.batchSize, b.globalCrops.length, b.localCrops.length, b.masks.length]).toEqual([
      3,
      2 * 3 * 3 * 32 * 32,
      2 * 3 * 3 * 16 * 16,
      2 * 3 * 16,
    ]);
  });

  it("is reproducible from the seed and resumable at any batch", async () => {
    const a = await collect({ ...base, workers: 0 });
    const resumed = await collect({ ...base, workers: 0, startBatch: 2, numBatches: 2 });
    expect(resumed[0]!.globalCrops).toEqual(a[2]!.globalCrops);
    expect(resumed[1]!.masks).toEqual(a[3]!.masks);
    const other = await collect({ ...base, workers: 0, seed: 8, numBatches: 1 });
    expect(other[0]!.globalCrops).not.toEqual(a[0]!.globalCrops);
  });

  it("worker threads produce the same batches, in order", async () => {
    const inThread = await collect({ ...base, workers: 0 });
    const pooled = await collect({ ...base, workers: 2, prefetch: 3 });
    expect(pooled.length).toBe(inThread.length);
    pooled.forEach((b, k) => {
      expect(b.globalCrops, `batch ${k}`).toEqual(inThread[k]!.globalCrops);
      expect(b.maskIndices, `batch ${k}`).toEqual(inThread[k]!.maskIndices);
      expect(b.labels, `batch ${k}`).toEqual(inThread[k]!.labels);
    });
  });

  it("replaces a corrupt file by the next image and reports it once", async () => {
    const root = mkdtempSync(join(tmpdir(), "dinov2-loader-"));
    try {
      const img = await sharp(Buffer.alloc(20 * 20 * 3, 90), {
        raw: { width: 20, height: 20, channels: 3 },
      })
        .png()
        .toBuffer();
      writeFileSync(join(root, "a.png"), img);
      writeFileSync(join(root, "b.png"), Buffer.from("corrupt"));
      writeFileSync(join(root, "c.png"), img);
      const { spec } = await scanImageFolder(root);
      const loader = createSslLoader({
        ...base,
        dataset: spec,
        batchSize: 3,
        numBatches: 2,
        shuffle: false,
      });
      const first = await loader.next();
      await loader.next();
      expect(first!.batchSize).toBe(3);
      expect(await loader.next()).toBeNull();
      expect(loader.stats().batches).toBe(2);
      expect(loader.stats().skipped.map((s) => s.path)).toEqual([join(root, "b.png")]);
      await loader.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
