// `dinov2 export-onnx` and exportOnnx(): the exported model runs in onnxruntime-node and in
// onnxruntime-web (wasm, as a browser or transformers.js would run it) with the same outputs, at a
// fixed or dynamic batch, with or without external data; and it matches the HF fixture.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ortWeb from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { type HostTensor, hostTensor } from "../../src/core/index.js";
import { createEmbedder, exportOnnx } from "../../src/inference/index.js";
import {
  hfConfigToOptions,
  officialToHf,
  optionsToHfConfig,
  readSafetensorsFile,
  writeSafetensorsFile,
} from "../../src/io/index.js";
import { type Backbone, createBackbone, loadBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../../src/models/presets.js";
import { loadOrt } from "../../src/runtime/index.js";
import { expectClose, setsWith } from "../helpers/fixtures.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const TINY: VitOptions = {
  ...VIT_DEFAULTS,
  imgSize: 28,
  embedDim: 24,
  depth: 1,
  numHeads: 2,
  patchSize: 14,
};
const OUTPUTS = ["last_hidden_state", "pooler_output"] as const;

type Outputs = Record<(typeof OUTPUTS)[number], HostTensor>;

function pixels(batch: number, side: number, seed = 0): HostTensor<"float32"> {
  const n = batch * 3 * side * side;
  return hostTensor(
    "float32",
    [batch, 3, side, side],
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed)),
  );
}

/** Runs the model file in onnxruntime-node; quiet, since a dynamic batch's outputs are declared at the traced batch. */
async function runNode(modelPath: string, x: HostTensor): Promise<Outputs> {
  const ort = await loadOrt();
  const s = await ort.InferenceSession.create(modelPath, { logSeverityLevel: 3 });
  const out = await s.run({
    pixel_values: new ort.Tensor("float32", x.data as Float32Array, [...x.shape]),
  });
  await s.release();
  return toHost(out);
}

/** Runs the model bytes in onnxruntime-web's wasm backend, single-threaded, under Node. */
async function runWeb(modelPath: string, x: HostTensor): Promise<Outputs> {
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.logLevel = "error";
  const dataPath = `${modelPath}.data`;
  const externalData = existsSync(dataPath)
    ? [{ path: "model.onnx.data", data: readFileSync(dataPath) }]
    : undefined;
  const s = await ortWeb.InferenceSession.create(
    readFileSync(modelPath),
    externalData ? { externalData } : {},
  );
  const out = await s.run({
    pixel_values: new ortWeb.Tensor("float32", x.data as Float32Array, [...x.shape]),
  });
  await s.release();
  return toHost(out);
}

function toHost(out: Record<string, { dims: readonly number[]; data: unknown }>): Outputs {
  const pick = (k: string) =>
    hostTensor("float32", out[k]!.dims.map(Number), out[k]!.data as Float32Array);
  return { last_hidden_state: pick("last_hidden_state"), pooler_output: pick("pooler_output") };
}

function rows(t: HostTensor, from: number, to: number): HostTensor {
  const per = t.data.length / t.shape[0]!;
  return hostTensor(
    "float32",
    [to - from, ...t.shape.slice(1)],
    (t.data as Float32Array).slice(from * per, to * per),
  );
}

let dir: string;
let backbone: Backbone;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "export-e2e-"));
  backbone = createBackbone(TINY, 3);
});

describe("exportOnnx", () => {
  it("runs the same in onnxruntime-web and onnxruntime-node, and pooler_output is the embedder's CLS", async () => {
    const path = join(dir, "fixed", "model.onnx");
    const r = await exportOnnx(backbone, path, { imageSize: 28, batchSize: 2 });
    expect(r.inputs.get("pixel_values")?.shape).toEqual([2, 3, 28, 28]);
    const x = pixels(2, 28);
    const node = await runNode(path, x);
    const web = await runWeb(path, x);
    expect(node.last_hidden_state.shape).toEqual([2, 5, 24]);
    expect(node.pooler_output.shape).toEqual([2, 24]);
    for (const k of OUTPUTS) expectClose(`web ${k}`, web[k], node[k], 1e-5);
    const embedder = await createEmbedder({ backbone, imageSize: 28, batchSize: 2 });
    const { cls } = await embedder.run(x.data);
    await embedder.release();
    expectClose("cls", hostTensor("float32", [2, 24], cls), node.pooler_output, 1e-5);
  });

  it("with a dynamic batch, gives each image the features it gets at a fixed batch", async () => {
    const fixed = join(dir, "fixed3", "model.onnx");
    const dynamic = join(dir, "dynamic", "model.onnx");
    await exportOnnx(backbone, fixed, { imageSize: 28, batchSize: 3 });
    const r = await exportOnnx(backbone, dynamic, { imageSize: 28, isDynamicBatch: true });
    expect(r.inputs.get("pixel_values")?.shape).toEqual([-1, 3, 28, 28]);
    const x = pixels(3, 28, 1);
    const want = await runNode(fixed, x);
    for (const run of [runNode, runWeb]) {
      const three = await run(dynamic, x);
      const one = await run(dynamic, rows(x, 1, 2));
      for (const k of OUTPUTS) {
        expectClose(`batch 3 ${k}`, three[k], want[k], 1e-5);
        expectClose(`batch 1 ${k}`, one[k], rows(want[k], 1, 2), 1e-5);
      }
    }
  });

  it("with fused, writes onnxruntime's fused kernels (dynamic batch too) and the same outputs", async () => {
    const plain = join(dir, "plain3", "model.onnx");
    const fused = join(dir, "fused", "model.onnx");
    await exportOnnx(backbone, plain, { imageSize: 28, batchSize: 3 });
    await exportOnnx(backbone, fused, { imageSize: 28, isDynamicBatch: true, fused: true });
    const bytes = readFileSync(fused).toString("latin1");
    for (const op of ["Attention", "SkipLayerNormalization", "BiasGelu", "com.microsoft"])
      expect(bytes).toContain(op);
    const plainBytes = readFileSync(plain).toString("latin1");
    for (const op of ["SkipLayerNormalization", "BiasGelu"]) expect(plainBytes).not.toContain(op);
    const x = pixels(3, 28, 2);
    const want = await runNode(plain, x);
    const three = await runNode(fused, x);
    const one = await runNode(fused, rows(x, 0, 1));
    for (const k of OUTPUTS) {
      expectClose(`fused batch 3 ${k}`, three[k], want[k], 1e-4);
      expectClose(`fused batch 1 ${k}`, one[k], rows(want[k], 0, 1), 1e-4);
    }
  });

  it("with int8 and fused, quantises the linear layers outside Attention: the embedder's int8 graph", async () => {
    const path = join(dir, "int8-fused", "model.onnx");
    await exportOnnx(backbone, path, { imageSize: 28, batchSize: 2, int8: true, fused: true });
    const bytes = readFileSync(path).toString("latin1");
    for (const op of ["Attention", "SkipLayerNormalization", "DynamicQuantizeMatMul"])
      expect(bytes).toContain(op);
    const x = pixels(2, 28, 3);
    const got = await runNode(path, x);
    // The graph createEmbedder({ int8, fused }) runs when it keeps every token of the last block
    // (dynamic quantisation scales by the whole input, so the CLS-only graph rounds otherwise).
    const e = await createEmbedder({
      backbone,
      batchSize: 2,
      imageSize: 28,
      int8: true,
      fused: true,
      patchTokens: true,
    });
    try {
      const { cls } = await e.run(x.data);
      expectClose(
        "int8 + fused pooler_output",
        got.pooler_output,
        hostTensor("float32", [2, backbone.options.embedDim], cls),
        1e-5,
      );
    } finally {
      await e.release();
    }
    // int8 stays close to the fp32 features (the quantisation error, not a wiring error).
    const plain = join(dir, "int8-fused", "fp32.onnx");
    await exportOnnx(backbone, plain, { imageSize: 28, batchSize: 2 });
    const fp32 = await runNode(plain, x);
    const a = got.pooler_output.data as Float32Array;
    const b = fp32.pooler_output.data as Float32Array;
    const d = backbone.options.embedDim;
    for (let r = 0; r < 2; r++) {
      let dot = 0,
        na = 0,
        nb = 0;
      for (let j = 0; j < d; j++) {
        dot += a[r * d + j]! * b[r * d + j]!;
        na += a[r * d + j]! ** 2;
        nb += b[r * d + j]! ** 2;
      }
      expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.99);
    }
  });

  it("writes the weights to <model>.data with externalData, loadable by both runtimes", async () => {
    const path = join(dir, "external", "model.onnx");
    const r = await exportOnnx(backbone, path, { imageSize: 28, externalData: true });
    expect(r.dataPath).toBe(`${path}.data`);
    expect(readFileSync(path).length).toBeLessThan(readFileSync(`${path}.data`).length);
    const x = pixels(1, 28, 2);
    const inline = join(dir, "inline", "model.onnx");
    await exportOnnx(backbone, inline, { imageSize: 28 });
    const want = await runNode(inline, x);
    for (const run of [runNode, runWeb]) {
      const got = await run(path, x);
      for (const k of OUTPUTS) expectClose(k, got[k], want[k], 1e-6);
    }
  });

  it("writes config.json and a BitImageProcessor preprocessor_config.json beside the model", async () => {
    await exportOnnx(backbone, join(dir, "cfg", "model.onnx"), { imageSize: 28 });
    const config = JSON.parse(readFileSync(join(dir, "cfg", "config.json"), "utf8"));
    expect(hfConfigToOptions(config)).toMatchObject({
      embedDim: 24,
      depth: 1,
      numHeads: 2,
      patchSize: 14,
      imgSize: 28,
    });
    expect(JSON.parse(readFileSync(join(dir, "cfg", "preprocessor_config.json"), "utf8"))).toEqual({
      crop_size: { height: 28, width: 28 },
      do_center_crop: true,
      do_convert_rgb: true,
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.485, 0.456, 0.406],
      image_processor_type: "BitImageProcessor",
      image_std: [0.229, 0.224, 0.225],
      resample: 3,
      rescale_factor: 1 / 255,
      size: { shortest_edge: 32 },
    });
  });
});

// In the default suite only when the reference fixtures are there; the parity suite covers them too.
const hfSets = setsWith("hf_dinov2*", { optional: true });

describe.skipIf(hfSets.length === 0)("exportOnnx on the Hugging Face fixtures", () => {
  it.each(hfSets.map((s) => [`${s.set.name}/${s.path.split("/").at(-1)}`, s.path] as const))(
    "%s: last_hidden_state and pooler_output match transformers in both runtimes",
    async (name, fixtureDir) => {
      const expected = readSafetensorsFile(join(fixtureDir, "expected.safetensors"));
      const x = expected.get("in.native")!;
      const [, , h, w] = x.shape as [number, number, number, number];
      if (h !== w) return; // our export takes square images only
      const path = join(dir, "hf", name.replace(/\W/g, "_"), "model.onnx");
      await exportOnnx(loadBackbone(fixtureDir), path, { imageSize: h, isDynamicBatch: true });
      for (const run of [runNode, runWeb]) {
        const got = await run(path, x);
        for (const k of OUTPUTS)
          expectClose(`${name} ${k}`, got[k], expected.get(`out.native.${k}`)!);
      }
    },
  );
});

describe("dinov2 export-onnx", () => {
  it("exports a Hugging Face folder with a dynamic batch and says what it wrote", () => {
    const modelDir = join(dir, "tiny-hf");
    mkdirSync(modelDir, { recursive: true });
    writeFileSync(
      join(modelDir, "config.json"),
      JSON.stringify(optionsToHfConfig({ ...TINY, layerscale: 1 })),
    );
    writeSafetensorsFile(
      join(modelDir, "model.safetensors"),
      officialToHf(createBackbone({ ...TINY, layerscale: 1 }, 0).weights),
    );
    const out = join(dir, "cli", "onnx", "model.onnx");
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "export-onnx",
        "--model",
        modelDir,
        "--image-size",
        "28",
        "--output",
        out,
        "--dynamic-batch",
      ],
      { cwd: root, encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("inputs: pixel_values float32[-1, 3, 28, 28] (-1: dynamic batch)");
    expect(r.stdout).toContain("outputs: last_hidden_state, pooler_output");
    for (const f of ["model.onnx", "config.json", "preprocessor_config.json"])
      expect(existsSync(join(dir, "cli", "onnx", f))).toBe(true);
  });
});
