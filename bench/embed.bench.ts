// Does embedding cost anything beyond the model? ViT-S/14 at 224², batch 32: our Embedder against
// a plain onnxruntime-node session on the model `exportOnnx` writes (default options, interleaved),
// then embed() from JPEG files (decode + eval transform included), ViT-B/14, and peak RSS.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { type HostTensor, hostTensor, numel } from "../src/core/index.js";
import { openDataset } from "../src/data/datasets/dataset.js";
import { knnEval } from "../src/eval/knn.js";
import { heldOutSplit } from "../src/eval/knn-split.js";
import {
  createEmbedder,
  embed,
  evalTransform,
  exportOnnx,
  loadImage,
} from "../src/inference/index.js";
import { preprocessInto } from "../src/inference/preprocess.js";
import { archMetadata, writeSafetensorsFile } from "../src/io/index.js";
import { type Backbone, createBackbone, loadBackbone } from "../src/models/backbone.js";
import { vitOptions } from "../src/models/presets.js";
import { DinoVisionTransformer } from "../src/models/vision-transformer.js";
import { namedParams } from "../src/nn/module.js";
import { pythonWith } from "../test/helpers/torch-python.js";
import type { EmbedWorkerSpec } from "./embed-worker.js";
import { type Bench, type BenchContext, round3, summarise, timeIt } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const BATCH = 32;
const SIDE = 224;
const FILES = 64;
const THREADS = 2;

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
      const knn = await int8Knn(vits, ctx);
      const extras = process.env.EMBED_EXTRAS !== "0";
      const skipped = "skipped: EMBED_EXTRAS=0";
      const preproc = extras
        ? await preprocFigures(vits, await writeJpegs(dir, FILES), ctx)
        : undefined;
      const vitsRss = peakRssGib();
      t0 = performance.now();
      const vitbImgS = extras ? await vitbFigures(quickBackbone("vitb14"), ctx) : undefined;
      if (extras) ctx.log(`ViT-B/14 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return {
        vits14_embed_vs_ort: round3(tensors.plainMs / tensors.embedMs),
        vits14_embed_img_s: round3((BATCH * 1000) / tensors.embedMs),
        vits14_embed_vs_torch_onnx:
          tensors.torchMs === undefined
            ? "skipped: no torch"
            : round3(tensors.torchMs / tensors.embedMs),
        vits14_embed_int8_speedup: round3(tensors.unfusedMs / tensors.int8Ms),
        vits14_embed_fused_speedup: round3(tensors.unfusedMs / tensors.embedMs),
        vits14_embed_fused_all_tokens_vs_torch_onnx:
          tensors.torchMs === undefined
            ? "skipped: no torch"
            : round3(tensors.torchMs / tensors.timings.fused_all_tokens.medianMs),
        vits14_embed_int8_fused_speedup: round3(
          tensors.unfusedMs / tensors.timings.int8_fused.medianMs,
        ),
        vits14_embed_int8_cos_min: round3(tensors.cosMin),
        vits14_embed_int8_knn_delta: round3(knn.delta),
        vits14_embed_preproc_img_s: preproc ? round3(preproc.imgS) : skipped,
        vitb14_embed_img_s: vitbImgS === undefined ? skipped : round3(vitbImgS),
        peak_rss_gib: round3(peakRssGib()),
        details: {
          batch: BATCH,
          image_size: SIDE,
          vits14_plain_ort_img_s: round3((BATCH * 1000) / tensors.plainMs),
          vits14_embed_vs_ort_fastest: round3(
            tensors.timings.plain.minMs / tensors.timings.embed.minMs,
          ),
          vits14_unfused_vs_ort: round3(tensors.plainMs / tensors.unfusedMs),
          vits14_fused_max_abs_diff: tensors.fusedMaxDiff,
          vits14_int8_fused_cos_min: round3(tensors.int8FusedCosMin),
          vits14_timings: tensors.timings,
          vits14_loadavg: tensors.loads,
          threads: THREADS,
          vits14_peak_rss_gib: round3(vitsRss),
          int8_knn: knn,
          preproc_files: FILES,
          preproc_jpeg_px: "500x375",
          preproc_ms_per_img: preproc ? round3(preproc.msPerImage) : skipped,
          vitb14_weights:
            "uniform(-0.02, 0.02), not the official init (createBackbone takes ~45 s here)",
        },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** The variants timed in their own processes, interleaved round by round. */
const VARIANTS = [
  "embed",
  "fused_all_tokens",
  "embed_unfused",
  "int8",
  "int8_fused",
  "plain",
  "torch_onnx",
] as const;
type Variant = (typeof VARIANTS)[number];

/**
 * Our Embedder (default: fused kernels; unfused; int8) vs a default InferenceSession on the model
 * `exportOnnx` writes and, when PyTorch is here, on PyTorch's own ONNX export of the official
 * ViT-S/14: each variant in its own process (EMBED_ROUNDS rounds, order alternating, EMBED_ITERS
 * timed batches per process after a warm-up), the same pixels everywhere.
 */
async function tensorFigures(backbone: Backbone, dir: string, ctx: BenchContext) {
  const modelPath = join(dir, "vits14.safetensors");
  writeSafetensorsFile(modelPath, new Map(backbone.weights), {
    format: "pt",
    ...archMetadata(backbone.options),
  });
  const onnxPath = join(dir, "vits14.onnx");
  await exportOnnx(backbone, onnxPath, { imageSize: SIDE, batchSize: BATCH });
  const torchPath = torchExport(dir, ctx);
  const rounds = Number(process.env.EMBED_ROUNDS ?? 3);
  const iters = Number(process.env.EMBED_ITERS ?? 2);
  const names = VARIANTS.filter((v) => v !== "torch_onnx" || torchPath);
  const specs: Record<
    Variant,
    Omit<EmbedWorkerSpec, "batch" | "side" | "iters" | "threads" | "clsOut">
  > = {
    embed: { kind: "embed", modelPath },
    fused_all_tokens: { kind: "embed", modelPath, patchTokens: true },
    embed_unfused: { kind: "embed", modelPath, fused: false },
    int8: { kind: "embed", modelPath, int8: true },
    int8_fused: { kind: "embed", modelPath, int8: true, fused: true },
    plain: { kind: "onnx", onnxPath },
    torch_onnx: { kind: "onnx", onnxPath: torchPath ?? "" },
  };
  ctx.log(
    `ViT-S/14 batch ${BATCH}, ${THREADS} threads: ${names.join(", ")}; ${rounds} rounds, ${iters} timed batches per process after a warm-up`,
  );
  const samples = new Map<Variant, number[]>(names.map((n) => [n, []]));
  const loads: Record<string, number[][]> = {};
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const w = embedWorker({
        ...specs[name],
        batch: BATCH,
        side: SIDE,
        iters,
        threads: THREADS,
        clsOut: join(dir, `${name}.cls`),
      });
      samples.get(name)!.push(...w.samples_ms);
      loads[name] = [...(loads[name] ?? []), w.loadavg];
      ctx.log(
        `  round ${round + 1} ${name}: ${w.samples_ms.map((m) => m.toFixed(0)).join(", ")} ms/batch, load ${w.loadavg.map((l) => l.toFixed(1)).join(" -> ")}`,
      );
    }
  }
  const t = Object.fromEntries([...samples].map(([n, s]) => [n, summarise(s)])) as Record<
    Variant,
    ReturnType<typeof summarise>
  >;
  const cls = (n: Variant) => new Float32Array(readFileSync(join(dir, `${n}.cls`)).buffer.slice(0));
  const dim = backbone.options.embedDim;
  const cosMin = minRowCosine(cls("embed_unfused"), cls("int8"), dim);
  const fusedMaxDiff = Math.max(
    maxAbsDiff(cls("embed"), cls("embed_unfused")),
    maxAbsDiff(cls("fused_all_tokens"), cls("embed_unfused")),
  );
  const int8FusedCosMin = minRowCosine(cls("embed_unfused"), cls("int8_fused"), dim);
  ctx.log(
    `  medians (ms): ${names.map((n) => `${n} ${t[n].medianMs.toFixed(0)}`).join(", ")}; int8 cos min ${cosMin.toFixed(4)}; fused vs unfused max |diff| ${fusedMaxDiff.toExponential(2)}`,
  );
  return {
    embedMs: t.embed.medianMs,
    unfusedMs: t.embed_unfused.medianMs,
    plainMs: t.plain.medianMs,
    int8Ms: t.int8.medianMs,
    torchMs: t.torch_onnx?.medianMs,
    cosMin,
    fusedMaxDiff,
    int8FusedCosMin,
    timings: t,
    loads,
  };
}

const KNN_IMAGES = Number(process.env.EMBED_KNN_IMAGES ?? 500);
const KNN_SIDE = 112;

/**
 * k-NN top-1 (k = 20, T = 0.07, held-out 20% per class) on the built-in synthetic set, fp32 vs
 * int8 CLS features of the same backbone: the points int8 loses. The backbone is the bench's
 * (random init) unless EMBED_KNN_MODEL names a trained one (e.g. the demo's exported teacher).
 */
async function int8Knn(random: Backbone, ctx: BenchContext) {
  const modelPath = process.env.EMBED_KNN_MODEL;
  const backbone = modelPath ? loadBackbone(modelPath) : random;
  const ds = openDataset({ kind: "synthetic", seed: 3, length: KNN_IMAGES, size: 128 });
  const t = evalTransform(KNN_SIDE, backbone.options.patchSize);
  const n = 3 * KNN_SIDE * KNN_SIDE;
  const pixels = new Float32Array(KNN_IMAGES * n);
  const labels = new Int32Array(KNN_IMAGES);
  for (let i = 0; i < KNN_IMAGES; i++) {
    const img = (await ds.get(i))!;
    labels[i] = img.label;
    preprocessInto(img, t, pixels, i * n);
  }
  const split = heldOutSplit(Array.from(labels), { seed: 0 });
  const dim = backbone.options.embedDim;
  const top1 = async (int8: boolean) => {
    const e = await createEmbedder({
      backbone,
      batchSize: 50,
      imageSize: KNN_SIDE,
      fused: false,
      int8,
    });
    const feats = new Float32Array(KNN_IMAGES * dim);
    for (let s = 0; s < KNN_IMAGES; s += 50) {
      const count = Math.min(50, KNN_IMAGES - s);
      const batch = new Float32Array(50 * n);
      batch.set(pixels.subarray(s * n, (s + count) * n));
      feats.set((await e.run(batch, count)).cls, s * dim);
    }
    await e.release();
    const pick = (pos: readonly number[]) => ({
      features: Float32Array.from(
        pos.flatMap((p) => Array.from(feats.subarray(p * dim, (p + 1) * dim))),
      ),
      labels: Int32Array.from(pos.map((p) => labels[p]!)),
      dim,
    });
    return knnEval(pick(split.index), pick(split.queries), { ks: [20] }).top1[20]!;
  };
  const fp32 = await top1(false);
  const q = await top1(true);
  const r = {
    model: modelPath ?? "ViT-S/14, random init (official)",
    images: KNN_IMAGES,
    image_px: KNN_SIDE,
    queries: split.queries.length,
    fp32_top1: round3(fp32 * 100),
    int8_top1: round3(q * 100),
    delta: (fp32 - q) * 100,
  };
  ctx.log(`int8 k-NN on the synthetic set: ${JSON.stringify(r)}`);
  return r;
}

function embedWorker(spec: EmbedWorkerSpec): {
  samples_ms: number[];
  loadavg: number[];
  compile_s: number;
} {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(here, "embed-worker.ts"), JSON.stringify(spec)],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`embed worker failed: ${r.stderr.slice(-2000)}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** PyTorch's own ONNX export of the official ViT-S/14 (bench_torch.py infer), when torch imports. */
function torchExport(dir: string, ctx: BenchContext): string | undefined {
  const given = process.env.EMBED_TORCH_ONNX;
  if (given) {
    if (!existsSync(given)) throw new Error(`EMBED_TORCH_ONNX: no file ${given}`);
    ctx.log(`PyTorch's export: ${given} (EMBED_TORCH_ONNX)`);
    return given;
  }
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
