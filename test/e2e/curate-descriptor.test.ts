// `curate embed --descriptor FILE.onnx`: a copy-detection model the test builds on the graph core
// (a random linear projection of the preprocessed pixels, static batch 2 so padding is exercised)
// runs on every pool image; its unit descriptors land in the pool's `descriptor` column, the table
// records the model, dedup needs --threshold for it and refuses another model, `calibrate` gives a
// threshold from planted copies, and malformed models are refused naming file and shape.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { constant, hostTensor, input, matmul, reshape } from "../../src/core/index.js";
import { readPool } from "../../src/curate/pool.js";
import { CurateStore } from "../../src/curate/store.js";
import { writeSyntheticPool } from "../../src/curate/synthetic-pool.js";
import { decodeImage } from "../../src/data/decode.js";
import { createRng } from "../../src/data/rng.js";
import { preprocessInto } from "../../src/inference/preprocess.js";
import { writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS } from "../../src/models/presets.js";
import { lowerToOnnx } from "../../src/onnx/index.js";
import { type CliOutput, runCliCaptured } from "../helpers/run-cli-captured.js";

const S = 28;
const D = 8;
const IN = 3 * S * S;

/** In-process run of `dinov2 curate ...`, as the CLI prints it. */
function curate(args: string[]): Promise<CliOutput> {
  return runCliCaptured(["curate", ...args]);
}

let dir: string;
let model: string;
let good: string;
let other: string;
let poolDir: string;
let planted: string;
let w: Float32Array;

function projection(seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: IN * D }, () => rng.normal());
}

function writeModel(name: string, x: ReturnType<typeof input>, y: ReturnType<typeof input>) {
  const path = join(dir, name);
  writeFileSync(path, lowerToOnnx({ y }, {}).bytes);
  void x;
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "curate-descriptor-"));
  const b = createBackbone({ ...VIT_DEFAULTS, imgSize: S, embedDim: 64, numHeads: 1, depth: 1 }, 0);
  model = join(dir, "vit.safetensors");
  writeSafetensorsFile(model, new Map(b.weights));
  w = projection(7);
  const x = input("pixels", [2, 3, S, S]);
  good = writeModel(
    "proj.onnx",
    x,
    matmul(reshape(x, [2, IN]), constant(hostTensor("float32", [IN, D], w))),
  );
  other = writeModel(
    "other.onnx",
    x,
    matmul(reshape(x, [2, IN]), constant(hostTensor("float32", [IN, D], projection(8)))),
  );
  planted = join(dir, "planted");
  const p = await writeSyntheticPool({
    dir: planted,
    seed: 2,
    originals: 24,
    copies: 8,
    testImages: 3,
  });
  poolDir = p.poolDir;
}, 60_000);

const embedArgs = () => ["--model", model, "--image-size", `${S}`, "--threads", "1"];

describe("curate with an ONNX descriptor model", () => {
  it("stores unit descriptors that match the model run by hand, and records the model", async () => {
    const db = join(dir, "db");
    const e = await curate([
      "embed",
      "--db",
      db,
      "--input",
      poolDir,
      "--descriptor",
      good,
      ...embedArgs(),
    ]);
    expect(e.code, e.stderr).toBe(0);
    const store = await CurateStore.open(db);
    try {
      const pool = await readPool(store);
      expect(pool.meta.descriptor).toMatch(
        /^onnx proj\.onnx sha256:[0-9a-f]{16} 28px mean=0\.485,0\.456,0\.406 std=0\.229,0\.224,0\.225$/,
      );
      expect(pool.meta.descriptorDim).toBe(D);
      // By hand: the eval transform at 28 px (resize 32, centre crop 28), x·W, divided by its norm.
      for (const i of [0, pool.size - 1]) {
        const img = await decodeImage(pool.paths[i]!);
        const px = new Float32Array(IN);
        preprocessInto(
          img,
          { resizePx: 32, cropPx: S, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
          px,
        );
        const y = new Float64Array(D);
        for (let k = 0; k < IN; k++) for (let d = 0; d < D; d++) y[d]! += px[k]! * w[k * D + d]!;
        const norm = Math.hypot(...y);
        const got = Array.from(pool.descriptor!.subarray(i * D, (i + 1) * D));
        for (let d = 0; d < D; d++) expect(got[d]).toBeCloseTo(y[d]! / norm, 4);
      }
    } finally {
      store.close();
    }
  }, 120_000);

  it("dedup needs --threshold for it, refuses another model, and calibrate suggests one", async () => {
    const db = join(dir, "db");
    const noT = await curate(["dedup", "--db", db, "--descriptor", good]);
    expect(noT.code).not.toBe(0);
    expect(noT.stderr).toMatch(/--threshold: descriptor "onnx" has no calibrated default/);
    const mixed = await curate(["dedup", "--db", db, "--descriptor", other, "--threshold", "0.9"]);
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toMatch(
      /the pool's descriptors were made by onnx proj\.onnx .*; this run gives onnx other\.onnx/,
    );
    const more = await curate([
      "embed",
      "--db",
      db,
      "--input",
      poolDir,
      "--descriptor",
      other,
      ...embedArgs(),
    ]);
    expect(more.stderr).toMatch(
      /holds copy descriptors of onnx proj\.onnx .*; this run uses onnx other\.onnx/,
    );
    const c = await curate(["calibrate", "--db", db, "--planted", planted, "--descriptor", good]);
    expect(c.code, c.stderr).toBe(0);
    const t = /--threshold (\d\.\d\d)/.exec(c.stdout)![1]!;
    expect(c.stdout).toMatch(/8 planted copies/);
    const d = await curate(["dedup", "--db", db, "--descriptor", good, "--threshold", t]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/dedup: kept \d+ of/);
  }, 120_000);

  it("refuses a model with a wrong input rank or a non-2-D output, naming file and shape", async () => {
    const x2 = input("pixels", [2, IN]);
    const rank2 = writeModel(
      "rank2.onnx",
      x2,
      matmul(x2, constant(hostTensor("float32", [IN, D], w))),
    );
    const x = input("pixels", [2, 3, S, S]);
    const out3 = writeModel("out3.onnx", x, reshape(x, [2, 3, S * S]));
    const a = await curate([
      "embed",
      "--db",
      join(dir, "bad"),
      "--input",
      poolDir,
      "--descriptor",
      rank2,
      ...embedArgs(),
    ]);
    expect(a.stderr).toContain(
      `--descriptor ${rank2}: input "pixels" has shape [2, ${IN}]; expected [batch, 3, S, S]`,
    );
    const b = await curate([
      "embed",
      "--db",
      join(dir, "bad"),
      "--input",
      poolDir,
      "--descriptor",
      out3,
      ...embedArgs(),
    ]);
    expect(b.stderr).toContain(
      `--descriptor ${out3}: output "y" is float32 [2, 3, ${S * S}] for a batch of 2`,
    );
    expect(basename(out3)).toBe("out3.onnx");
  }, 60_000);
});
