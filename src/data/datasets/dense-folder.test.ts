// Dense folders: VOC palette masks read as indices, ADE20K's reduce_zero_label, 16-bit depth in
// metres, and the bad-input errors (missing mask, label beyond the classes, 8-bit depth).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { PNG } from "pngjs";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { decodePngSamples } from "../index-png.js";
import { openDepthFolder, openSegFolder } from "./dense-folder.js";

const root = mkdtempSync(join(tmpdir(), "dense-folder-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const W = 4;
const H = 2;

async function rgbPng(path: string): Promise<void> {
  const data = Buffer.from(Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 29) % 256));
  mkdirSync(join(path, ".."), { recursive: true });
  await sharp(data, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(path);
}

async function greyPng(path: string, values: readonly number[]): Promise<void> {
  mkdirSync(join(path, ".."), { recursive: true });
  await sharp(Buffer.from(values), { raw: { width: W, height: H, channels: 1 } })
    .toColourspace("b-w")
    .png()
    .toFile(path);
}

function grey16Png(path: string, values: readonly number[]): void {
  const png = new PNG({
    width: W,
    height: H,
    bitDepth: 16,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  } as never);
  (png as unknown as { data: Uint16Array }).data = Uint16Array.from(values);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(
    path,
    PNG.sync.write(png, {
      colorType: 0,
      bitDepth: 16,
      inputColorType: 0,
      inputHasAlpha: false,
    } as never),
  );
}

/** An 8-bit palette PNG (filter 0 rows), written by hand: the layout of VOC's masks. */
function palettePng(indices: readonly number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(H, 4);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const plte = Buffer.alloc(256 * 3);
  for (let i = 0; i < 256; i++) plte.set([(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], i * 3);
  const rows = Buffer.alloc(H * (W + 1));
  for (let y = 0; y < H; y++) rows.set(indices.slice(y * W, (y + 1) * W), y * (W + 1) + 1);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("PLTE", plte),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("raw PNG samples", () => {
  it("reads palette indices, not colours (sharp sees the palette colours)", async () => {
    const bytes = palettePng([0, 1, 2, 255, 15, 15, 0, 3]);
    expect(Array.from(decodePngSamples(bytes).samples)).toEqual([0, 1, 2, 255, 15, 15, 0, 3]);
    const { data } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    expect(Array.from(data.subarray(3, 6))).toEqual([37, 91, 53]); // palette entry 1
  });

  it("reads 16-bit grey values exactly (pngjs-written, filtered rows)", () => {
    const values = [7, 4007, 8007, 12007, 16007, 20007, 65535, 0];
    const path = join(root, "g16.png");
    grey16Png(path, values);
    const s = decodePngSamples(readFileSync(path));
    expect([s.bitDepth, s.colorType, Array.from(s.samples)]).toEqual([16, "grey", values]);
  });
});

describe("segmentation folders", () => {
  it("VOC: palette masks give class indices, 255 stays ignored", async () => {
    const voc = join(root, "voc");
    mkdirSync(join(voc, "ImageSets", "Segmentation"), { recursive: true });
    writeFileSync(join(voc, "ImageSets", "Segmentation", "val.txt"), "img1\n");
    await rgbPng(join(voc, "JPEGImages", "img1.jpg").replace(".jpg", ".png"));
    // VOC images are .jpg: write a real JPEG.
    await sharp(join(voc, "JPEGImages", "img1.png"))
      .jpeg()
      .toFile(join(voc, "JPEGImages", "img1.jpg"));
    mkdirSync(join(voc, "SegmentationClass"), { recursive: true });
    writeFileSync(
      join(voc, "SegmentationClass", "img1.png"),
      palettePng([0, 1, 2, 255, 15, 20, 0, 3]),
    );
    const ds = openSegFolder({ root: voc, layout: "voc", split: "val" });
    expect(ds.classNames.length).toBe(21);
    expect(Array.from((await ds.get(0))!.mask)).toEqual([0, 1, 2, 255, 15, 20, 0, 3]);
  });

  it("ADE20K: label 0 becomes 255 (ignored), k becomes k − 1", async () => {
    const ade = join(root, "ade");
    await rgbPng(join(ade, "images", "training", "a.png"));
    await greyPng(join(ade, "annotations", "training", "a.png"), [0, 1, 2, 150, 0, 5, 5, 1]);
    const ds = openSegFolder({ root: ade, layout: "ade20k", split: "train" });
    expect(Array.from((await ds.get(0))!.mask)).toEqual([255, 0, 1, 149, 255, 4, 4, 0]);
  });

  it("refuses an image without a mask, and a label beyond the classes, naming the file", async () => {
    const pairs = join(root, "pairs");
    writeFileSync(join(mkdirp(pairs), "classes.txt"), "bg\nthing\n");
    await rgbPng(join(pairs, "train", "images", "x.png"));
    await greyPng(join(pairs, "train", "masks", "x.png"), [0, 1, 1, 0, 2, 0, 255, 0]);
    const ds = openSegFolder({ root: pairs, layout: "pairs", split: "train" });
    await expect(ds.get(0)).rejects.toThrow(/label 2 is beyond the 2 classes[\s\S]*masks\/x\.png/);
    await rgbPng(join(pairs, "train", "images", "y.png"));
    expect(() => openSegFolder({ root: pairs, layout: "pairs", split: "train" })).toThrow(
      /has no y\.png[\s\S]*images\/y\.png/,
    );
  });
});

describe("depth folders", () => {
  it("16-bit PNG values / scale are metres; an 8-bit depth PNG is refused by name", async () => {
    const d = join(root, "depth");
    await rgbPng(join(d, "val", "rgb", "a.png"));
    grey16Png(join(d, "val", "depth", "a.png"), [0, 1000, 2500, 10000, 500, 65535, 1, 0]);
    const ds = openDepthFolder({ root: d, split: "val", scale: 1000 });
    expect(Array.from((await ds.get(0))!.depth)).toEqual(
      [0, 1, 2.5, 10, 0.5, 65.535, 0.001, 0].map(Math.fround),
    );
    await rgbPng(join(d, "train", "rgb", "b.png"));
    await greyPng(join(d, "train", "depth", "b.png"), [0, 1, 2, 3, 4, 5, 6, 7]);
    const bad = openDepthFolder({ root: d, split: "train", scale: 1000 });
    await expect(bad.get(0)).rejects.toThrow(
      /8-bit PNG; depth must be a 16-bit PNG[\s\S]*depth\/b\.png/,
    );
  });
});

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
