// Does embedding cost anything beyond the model? ViT-S/14 at 224², batch 32: our Embedder against
// a plain onnxruntime-node session on the model `exportOnnx` writes (default options, interleaved),
// then embed() from JPEG files (decode + eval transform included), ViT-B/14, and peak RSS.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { type HostTensor, hostTensor, numel } from "../src/core/index.js";
import {
  createEmbedder,
  embed,
  evalTransform,
  exportOnnx,
  loadImage,
} from "../src/inference/index.js";
import { type Backbone, createBackbone } from "../src/models/backbone.js";
import { vitOptions } from "../src/models/presets.js";
import { DinoVisionTransformer } from "../src/models/vision-transformer.js";
import { namedParams } from "../src/nn/module.js";
import { pythonWith } from "../test/helpers/torch-python.js";
import { type Bench, type BenchContext, interleave, round3, timeIt } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const BATCH = 32;
const SIDE = 224;
const FILES = 64;

export const bench: Bench = {
  provider: "cpu",
  question:
    "How many images/s does embed() reach on ViT-S/14 and ViT-B/14 at 224², batch 32, and does it match plain onnxruntime on the exported model?",
  run: async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "embed-bench-"));
    try {
      let t0 = performance.now();
      const vits = createBackbone(vitOptions("vits14"), 0);
      ctx.log(`ViT-S/14 random weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const tensors = await tensorFigures(vits, dir, ctx);
      const files = await writeJpegs(dir, FILES);
      const preproc = await preprocFigures(vits, files, ctx);
      const vitsRss = peakRssGib();
      t0 = performance.now();
      const vitb = quickBackbone("vitb14");
      ctx.log(`ViT-B/14 random weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const vitbImgS = await vitbFigures(vitb, ctx);
      return {
        vits14_embed_vs_ort: round3(tensors.plainMs / tensors.embedMs),
        vits14_embed_img_s: round3((BATCH * 1000) / tensors.embedMs),
        vits14_embed_vs_torch_onnx:
          tensors.torchMs === undefined
            ? "skipped: no torch"
            : round3(tensors.torchMs / tensors.embedMs),
        vits14_embed_int8_speedup: round3(tensors.embedMs / tensors.int8Ms),
        vits14_embed_int8_cos_min: round3(tensors.cosMin),
        vits14_embed_preproc_img_s: round3(preproc.imgS),
        vitb14_embed_img_s: round3(vitbImgS),
        peak_rss_gib: round3(peakRssGib()),
        details: {
          batch: BATCH,
          image_size: SIDE,
          vits14_plain_ort_img_s: round3((BATCH * 1000) / tensors.plainMs),
          vits14_embed_vs_ort_fastest: round3(
            tensors.timings.plain!.minMs / tensors.timings.embed!.minMs,
          ),
          vits14_timings: tensors.timings,
          vits14_peak_rss_gib: round3(vitsRss),
          preproc_files: FILES,
          preproc_jpeg_px: "500x375",
          preproc_ms_per_img: round3(preproc.msPerImage),
          vitb14_weights:
            "uniform(-0.02, 0.02), not the official init (createBackbone takes ~45 s here)",
        },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/**
 * Our Embedder (fp32 and int8) vs a default InferenceSession on the exported model and, when
 * PyTorch is here, on PyTorch's own ONNX export of the official ViT-S/14; same input, interleaved.
 */
async function tensorFigures(backbone: Backbone, dir: string, ctx: BenchContext) {
  const embedder = await createEmbedder({ backbone, batchSize: BATCH, imageSize: SIDE });
  const int8 = await createEmbedder({ backbone, batchSize: BATCH, imageSize: SIDE, int8: true });
  const path = join(dir, "vits14.onnx");
  await exportOnnx(backbone, path, { imageSize: SIDE, batchSize: BATCH });
  const session = await ort.InferenceSession.create(path);
  const torchPath = torchExport(dir, ctx);
  const torchSession = torchPath ? await ort.InferenceSession.create(torchPath) : undefined;
  const x = randomPixels();
  const feeds = { pixel_values: new ort.Tensor("float32", x.data, [...x.shape]) };
  const torchFeeds = torchSession
    ? { [torchSession.inputNames[0]!]: new ort.Tensor("float32", x.data, [...x.shape]) }
    : undefined;
  ctx.log(
    `ViT-S/14 batch 32: embedder fp32 / int8 vs plain onnxruntime-node${torchSession ? " and PyTorch's export" : ""} (interleaved)`,
  );
  const t = await interleave(
    {
      embed: () => embedder.run(x.data),
      plain: () => session.run(feeds),
      int8: () => int8.run(x.data),
      ...(torchSession ? { torch_onnx: () => torchSession.run(torchFeeds!) } : {}),
    },
    { burnIn: 1, iters: 5 },
  );
  const a = (await embedder.run(x.data)).cls;
  const b = (await int8.run(x.data)).cls;
  const cosMin = minRowCosine(a, b, backbone.options.embedDim);
  await session.release();
  await torchSession?.release();
  await embedder.release();
  await int8.release();
  const embedMs = t.embed!.medianMs;
  const plainMs = t.plain!.medianMs;
  ctx.log(
    `  embed ${embedMs.toFixed(0)} ms, int8 ${t.int8!.medianMs.toFixed(0)} ms, plain ${plainMs.toFixed(0)} ms${t.torch_onnx ? `, PyTorch's export ${t.torch_onnx.medianMs.toFixed(0)} ms` : ""} per batch (median); int8 cos min ${cosMin.toFixed(4)}`,
  );
  return {
    embedMs,
    plainMs,
    int8Ms: t.int8!.medianMs,
    torchMs: t.torch_onnx?.medianMs,
    cosMin,
    timings: t,
  };
}

/** PyTorch's own ONNX export of the official ViT-S/14 (bench_torch.py infer), when torch imports. */
function torchExport(dir: string, ctx: BenchContext): string | undefined {
  const script = join(here, "..", "..", "shared", "reference", "bench_torch.py");
  const python = pythonWith(["torch"]);
  if (!existsSync(script) || python === undefined) {
    ctx.log("PyTorch's export: skipped (no torch)");
    return undefined;
  }
  const out = join(dir, "vits14_ref.onnx");
  const env: NodeJS.ProcessEnv = { ...process.env, ONNX_OUT: out, RUNS: "1" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(python, [script, "infer"], { env, encoding: "utf8" });
  if (r.status !== 0 || !existsSync(out)) {
    ctx.log(`PyTorch's export failed: ${r.stderr.slice(-400)}`);
    return undefined;
  }
  return out;
}

function minRowCosine(a: Float32Array, b: Float32Array, dim: number): number {
  let worst = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! ** 2;
      nb += b[i]! ** 2;
    }
    worst = Math.min(worst, dot / Math.sqrt(na * nb));
  }
  return worst;
}

/** embed() over JPEG files: images/s after compilation, and decode + transform alone. */
async function preprocFigures(backbone: Backbone, files: readonly string[], ctx: BenchContext) {
  const transform = evalTransform(SIDE);
  const single = await timeIt(
    () => Promise.all(files.slice(0, 8).map((f) => loadImage(f, transform))),
    { burnIn: 1, iters: 3 },
  );
  const msPerImage = single.medianMs / 8;
  let elapsedMs = 0;
  let done = 0;
  await embed(files, {
    backbone,
    batchSize: BATCH,
    imageSize: SIDE,
    onProgress: (p) => {
      elapsedMs = p.elapsedMs;
      done = p.done;
    },
  });
  const imgS = (done * 1000) / elapsedMs;
  ctx.log(
    `embed() on ${files.length} JPEGs: ${imgS.toFixed(1)} img/s; decode + transform ${msPerImage.toFixed(1)} ms/img`,
  );
  return { imgS, msPerImage };
}

async function vitbFigures(backbone: Backbone, ctx: BenchContext): Promise<number> {
  const embedder = await createEmbedder({ backbone, batchSize: BATCH, imageSize: SIDE });
  const x = randomPixels();
  const t = await timeIt(() => embedder.run(x.data), { burnIn: 1, iters: 2 });
  await embedder.release();
  const imgS = (BATCH * 1000) / t.medianMs;
  ctx.log(`ViT-B/14 batch 32: ${t.medianMs.toFixed(0)} ms per batch, ${imgS.toFixed(1)} img/s`);
  return imgS;
}

/** The architecture with uniform(-0.02, 0.02) weights: speed does not depend on the values. */
function quickBackbone(preset: "vitb14"): Backbone {
  const options = vitOptions(preset);
  const model = new DinoVisionTransformer(options);
  let s = 12345;
  const fill = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      out[i] = (s / 2 ** 32 - 0.5) * 0.04;
    }
    return out;
  };
  const weights = new Map<string, HostTensor>(
    namedParams(model).map(([k, p]) => [k, hostTensor("float32", p.shape, fill(numel(p.shape)))]),
  );
  return { model, weights, options };
}

function randomPixels(): HostTensor<"float32"> {
  const n = BATCH * 3 * SIDE * SIDE;
  return hostTensor(
    "float32",
    [BATCH, 3, SIDE, SIDE],
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01) * 2),
  );
}

/** 500x375 JPEGs (ImageNet's typical size) with smooth structure and noise. */
async function writeJpegs(dir: string, count: number): Promise<string[]> {
  const [w, h] = [500, 375];
  const files: string[] = [];
  for (let k = 0; k < count; k++) {
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        raw[i] = (128 + 100 * Math.sin((x + k * 7) / 23)) & 255;
        raw[i + 1] = (128 + 100 * Math.cos((y - k * 5) / 17)) & 255;
        raw[i + 2] = ((x * y + k * 31) >> 6) & 255;
      }
    }
    const path = join(dir, `img${String(k).padStart(3, "0")}.jpg`);
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path);
    files.push(path);
  }
  return files;
}

function peakRssGib(): number {
  return (process.resourceUsage().maxRSS * 1024) / 2 ** 30;
}
