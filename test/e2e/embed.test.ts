// `dinov2 embed` and the embed() API end to end on a tiny random ViT saved as a Hugging Face
// folder: features files, the .jsonl index, a corrupt file and a text file skipped, bad input.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { hostTensor } from "../../src/core/index.js";
import { embed } from "../../src/inference/index.js";
import {
  officialToHf,
  optionsToHfConfig,
  readSafetensorsFile,
  writeSafetensorsFile,
} from "../../src/io/index.js";
import { createBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../../src/models/presets.js";
import { expectClose } from "../helpers/fixtures.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const TINY: VitOptions = {
  ...VIT_DEFAULTS,
  imgSize: 28,
  embedDim: 24,
  depth: 1,
  numHeads: 2,
  patchSize: 14,
  layerscale: 1,
};

function dinov2(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An .npy file's shape and float32 data (the header we write: version 1.0, '<f4', C order). */
function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const bytes = readFileSync(path);
  const headerLen = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLen).toString("latin1");
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]!
    .split(",")
    .filter((s) => s.trim())
    .map(Number);
  const body = bytes.subarray(10 + headerLen);
  return {
    shape,
    data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)),
  };
}

async function writeImage(
  path: string,
  width: number,
  height: number,
  seed: number,
): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * (seed + 3) + ((i / 5) | 0) * 17) & 255;
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  await (path.endsWith(".png") ? img.png() : img.jpeg()).toFile(path);
}

let dir: string;
let modelDir: string;
let imagesDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "embed-e2e-"));
  modelDir = join(dir, "tiny-dinov2");
  mkdirSync(modelDir);
  const backbone = createBackbone(TINY, 7);
  writeFileSync(join(modelDir, "config.json"), JSON.stringify(optionsToHfConfig(TINY)));
  writeSafetensorsFile(join(modelDir, "model.safetensors"), officialToHf(backbone.weights));
  imagesDir = join(dir, "images");
  mkdirSync(join(imagesDir, "sub"), { recursive: true });
  await writeImage(join(imagesDir, "a.jpg"), 60, 40, 1);
  await writeImage(join(imagesDir, "b.png"), 33, 50, 2);
  await writeImage(join(imagesDir, "sub", "c.jpg"), 32, 32, 3);
  writeFileSync(join(imagesDir, "broken.jpg"), "this is not a JPEG");
  writeFileSync(join(imagesDir, "notes.txt"), "not an image either");
});

describe("dinov2 embed", () => {
  it("writes CLS and patch features and the path index, skipping and listing bad files", () => {
    const out = join(dir, "run1", "feats.npy");
    const r = dinov2(
      "embed",
      "--model",
      modelDir,
      "--input",
      imagesDir,
      "--output",
      out,
      "--image-size",
      "28",
      "--batch-size",
      "2",
      "--patch-tokens",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^embedded 3 images \(dim 24\), skipped 2;/);
    expect(r.stderr).toContain("skipped 2 files:");
    expect(r.stderr).toContain(`${join(imagesDir, "broken.jpg")}: `);
    expect(r.stderr).toContain(
      `${join(imagesDir, "notes.txt")}: not an image file (extension ".txt")`,
    );
    expect(r.stderr).toMatch(/img\/s/);
    const cls = readNpy(out);
    expect(cls.shape).toEqual([3, 24]);
    expect(cls.data.every(Number.isFinite)).toBe(true);
    expect(readNpy(join(dir, "run1", "feats.patch_tokens.npy")).shape).toEqual([3, 4, 24]);
    const index = readFileSync(`${out}.jsonl`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(index).toEqual([
      { index: 0, path: join(imagesDir, "a.jpg") },
      { index: 1, path: join(imagesDir, "b.png") },
      { index: 2, path: join(imagesDir, "sub", "c.jpg") },
    ]);
  });

  it("writes safetensors whose rows equal the API's, whatever the batch size", async () => {
    const out = join(dir, "run2", "feats.safetensors");
    const r = dinov2(
      "embed",
      "--model",
      modelDir,
      "--input",
      join(imagesDir, "a.jpg"),
      join(imagesDir, "sub", "c.jpg"),
      "--output",
      out,
      "--image-size",
      "28",
    );
    expect(r.code, r.stderr).toBe(0);
    const cli = readSafetensorsFile(out).get("cls")!;
    expect(cli.shape).toEqual([2, 24]);
    const api = await embed(
      [join(imagesDir, "a.jpg"), readFileSync(join(imagesDir, "sub", "c.jpg"))],
      {
        modelPath: modelDir,
        imageSize: 28,
        batchSize: 1,
      },
    );
    expect(api.paths).toEqual([join(imagesDir, "a.jpg"), "<bytes #1>"]);
    expectClose("cls", hostTensor("float32", [2, 24], api.cls), cli, 1e-5);
  });

  it("fails clearly on an empty folder", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const r = dinov2(
      "embed",
      "--model",
      modelDir,
      "--input",
      empty,
      "--output",
      join(dir, "e.npy"),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DataError: embed: no files found");
  });

  it("refuses an image size off the patch grid, naming the nearest sizes", () => {
    const r = dinov2(
      "embed",
      "--model",
      modelDir,
      "--input",
      imagesDir,
      "--output",
      join(dir, "x.npy"),
      "--image-size",
      "30",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatchInlineSnapshot(`
      "dinov2 embed: --image-size: image size must be a positive multiple of the patch size 14; got 30
        hint: use 28 or 42
      "
    `);
  });
});

describe("embed()", () => {
  it("takes an async iterable, reports progress and returns registers when asked", async () => {
    const backbone = createBackbone({ ...TINY, numRegisterTokens: 2 }, 1);
    async function* sources() {
      yield join(imagesDir, "a.jpg");
      yield join(imagesDir, "broken.jpg");
      yield join(imagesDir, "b.png");
    }
    const seen: number[] = [];
    const r = await embed(sources(), {
      backbone,
      imageSize: 28,
      batchSize: 2,
      registers: true,
      onProgress: (p) => seen.push(p.done),
    });
    expect(r.count).toBe(2);
    expect(r.registers?.length).toBe(2 * 2 * 24);
    expect(r.skipped.map((s) => s.path)).toEqual([join(imagesDir, "broken.jpg")]);
    expect(seen.at(-1)).toBe(2);
  });
});
