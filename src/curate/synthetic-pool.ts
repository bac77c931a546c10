// A seeded uncurated pool with known answers, for tests, calibration, the benchmark and
// `dinov2 curate synth`: originals drawn from the built-in synthetic classes, planted copies of
// some of them (crop, resize, colour change, JPEG re-encode, via sharp), planted near-copies of a
// separate "test" set, one zero-byte and one truncated file, and a manifest of what was planted.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { createSyntheticDataset } from "../data/datasets/synthetic.js";
import type { Uint8Image } from "../data/image.js";
import { createRng, type Rng } from "../data/rng.js";

export interface SyntheticPoolOptions {
  readonly dir: string;
  readonly seed?: number;
  /** Distinct originals in the pool (default 200). */
  readonly originals?: number;
  /** Originals that get one planted copy each (default originals / 4). */
  readonly copies?: number;
  /** Images in the test set (default 20); each has one planted near-copy in the pool. */
  readonly testImages?: number;
  /** Side of the originals in pixels (default 64). */
  readonly size?: number;
  /** Classes drawn, 2..10 (default 10); image i is class i mod numClasses. */
  readonly numClasses?: number;
  /** Also write one zero-byte and one truncated file into the pool (default true). */
  readonly corrupt?: boolean;
}

export const COPY_KINDS = ["crop", "resize", "colour", "jpeg"] as const;
export type CopyKind = (typeof COPY_KINDS)[number];

export interface PlantedCopy {
  /** The copy's file, relative to the pool folder. */
  readonly copy: string;
  /** Its source: a pool file (relative to pool/) or a test file (relative to test/). */
  readonly source: string;
  readonly kind: CopyKind | "exact";
}

export interface SyntheticPool {
  readonly poolDir: string;
  readonly testDir: string;
  /** Pool file (relative) -> class label, for every decodable pool image. */
  readonly labels: Readonly<Record<string, number>>;
  readonly copies: readonly PlantedCopy[];
  readonly nearTest: readonly PlantedCopy[];
  /** Byte-identical copies of pool originals. */
  readonly exact: readonly PlantedCopy[];
  readonly corrupt: readonly string[];
}

/** Writes the pool under `dir/pool` and `dir/test`, plus `dir/manifest.json`. */
export async function writeSyntheticPool(opts: SyntheticPoolOptions): Promise<SyntheticPool> {
  const seed = opts.seed ?? 0;
  const originals = opts.originals ?? 200;
  const copies = opts.copies ?? Math.floor(originals / 4);
  const tests = opts.testImages ?? 20;
  const size = opts.size ?? 64;
  const numClasses = opts.numClasses ?? 10;
  const poolDir = join(opts.dir, "pool");
  const testDir = join(opts.dir, "test");
  await mkdir(poolDir, { recursive: true });
  await mkdir(testDir, { recursive: true });
  const data = createSyntheticDataset({
    kind: "synthetic",
    seed,
    length: originals + tests,
    size,
    numClasses,
    layout: "scene",
  });
  const rng = createRng(seed).split("synthetic-pool");
  const labels: Record<string, number> = {};
  const planted: PlantedCopy[] = [];
  const nearTest: PlantedCopy[] = [];
  for (let i = 0; i < originals; i++) {
    const img = (await data.get(i))!;
    const name = `orig-${pad(i)}.png`;
    await writeFile(join(poolDir, name), await toPng(img));
    labels[name] = img.label;
    if (i < copies) {
      const kind = COPY_KINDS[i % COPY_KINDS.length]!;
      const copy = `copy-${pad(i)}-${kind}.${kind === "jpeg" ? "jpg" : "png"}`;
      await writeFile(join(poolDir, copy), await augment(img, kind, rng.split(copy)));
      labels[copy] = img.label;
      planted.push({ copy, source: name, kind });
    }
  }
  for (let t = 0; t < tests; t++) {
    const img = (await data.get(originals + t))!;
    const name = `test-${pad(t)}.png`;
    await writeFile(join(testDir, name), await toPng(img));
    const kind = COPY_KINDS[t % COPY_KINDS.length]!;
    const copy = `neartest-${pad(t)}-${kind}.${kind === "jpeg" ? "jpg" : "png"}`;
    await writeFile(join(poolDir, copy), await augment(img, kind, rng.split(copy)));
    labels[copy] = img.label;
    nearTest.push({ copy, source: name, kind });
  }
  // Two byte-identical files: exact duplicates that `embed` drops by content hash.
  const exact: PlantedCopy[] = [];
  for (let i = 0; i < Math.min(2, originals); i++) {
    const copy = `exact-${pad(i)}.png`;
    await writeFile(join(poolDir, copy), await readFile(join(poolDir, `orig-${pad(i)}.png`)));
    exact.push({ copy, source: `orig-${pad(i)}.png`, kind: "exact" });
  }
  const corrupt: string[] = [];
  if (opts.corrupt ?? true) {
    await writeFile(join(poolDir, "broken-empty.png"), Buffer.alloc(0));
    const jpeg = await sharp(await toPng((await data.get(0))!))
      .jpeg()
      .toBuffer();
    await writeFile(join(poolDir, "broken-truncated.jpg"), jpeg.subarray(0, jpeg.length >> 1));
    corrupt.push("broken-empty.png", "broken-truncated.jpg");
  }
  const pool: SyntheticPool = {
    poolDir,
    testDir,
    labels,
    copies: planted,
    nearTest,
    exact,
    corrupt,
  };
  await writeFile(join(opts.dir, "manifest.json"), JSON.stringify(pool, null, 1));
  return pool;
}

/** One planted copy: each kind is a transformation a copy detector must see through. */
export async function augment(img: Uint8Image, kind: CopyKind, rng: Rng): Promise<Buffer> {
  const s = sharpOf(img);
  const { width: w, height: h } = img;
  switch (kind) {
    case "crop": {
      // Keep 95–99% of each side (same fraction: the aspect ratio stays), at a random offset.
      const keep = rng.uniform(0.95, 0.99);
      const cw = Math.round(w * keep);
      const ch = Math.round(h * keep);
      const left = rng.int(0, w - cw + 1);
      const top = rng.int(0, h - ch + 1);
      return s.extract({ left, top, width: cw, height: ch }).png().toBuffer();
    }
    case "resize": {
      const f = rng.bernoulli(0.5) ? rng.uniform(0.5, 0.8) : rng.uniform(1.3, 2);
      return s
        .resize(Math.round(w * f), Math.round(h * f))
        .png()
        .toBuffer();
    }
    case "colour":
      return s
        .modulate({
          brightness: rng.uniform(0.8, 1.2),
          saturation: rng.uniform(0.5, 1.5),
          hue: rng.int(-40, 41),
        })
        .png()
        .toBuffer();
    case "jpeg":
      return s.jpeg({ quality: rng.int(30, 71) }).toBuffer();
  }
}

function sharpOf(img: Uint8Image): ReturnType<typeof sharp> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  });
}

function toPng(img: Uint8Image): Promise<Buffer> {
  return sharpOf(img).png().toBuffer();
}

function pad(i: number): string {
  return String(i).padStart(5, "0");
}
