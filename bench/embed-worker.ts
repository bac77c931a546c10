// One embed-bench variant in its own process: compiles it, runs a warm-up batch then `iters`
// timed batches of ViT-S/14 at 224², batch 32, on fixed pixels, writes the first run's CLS rows
// to `<clsOut>` (float32) and prints one JSON line with every sample.
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import * as ort from "onnxruntime-node";
import { createEmbedder } from "../src/inference/index.js";
import { benchPixels } from "./embed-pixels.js";

export interface EmbedWorkerSpec {
  /** embed: our Embedder (options below); onnx: a plain default InferenceSession on `onnxPath`. */
  readonly kind: "embed" | "onnx";
  readonly modelPath?: string;
  readonly onnxPath?: string;
  readonly fused?: boolean;
  readonly int8?: boolean;
  /** Also output the patch tokens (then the fused graph runs the whole last block). */
  readonly patchTokens?: boolean;
  readonly batch: number;
  readonly side: number;
  readonly iters: number;
  readonly threads: number;
  readonly clsOut: string;
}

async function runner(s: EmbedWorkerSpec): Promise<() => Promise<Float32Array>> {
  const x = benchPixels(s.batch, s.side);
  if (s.kind === "embed") {
    const e = await createEmbedder({
      modelPath: s.modelPath!,
      batchSize: s.batch,
      imageSize: s.side,
      threads: s.threads,
      ...(s.fused === undefined ? {} : { fused: s.fused }),
      ...(s.int8 ? { int8: true } : {}),
      ...(s.patchTokens ? { patchTokens: true } : {}),
    });
    return async () => (await e.run(x)).cls;
  }
  const session = await ort.InferenceSession.create(s.onnxPath!, {
    intraOpNumThreads: s.threads,
    interOpNumThreads: 1,
  });
  const feeds = {
    [session.inputNames[0]!]: new ort.Tensor("float32", x, [s.batch, 3, s.side, s.side]),
  };
  const out = session.outputNames[session.outputNames.length - 1]!; // y, or pooler_output
  return async () => (await session.run(feeds))[out]!.data as Float32Array;
}

const spec = JSON.parse(process.argv[2]!) as EmbedWorkerSpec;
const before = loadavg()[0]!;
const t0 = performance.now();
const run = await runner(spec);
const first = await run(); // warm-up
const compileS = (performance.now() - t0) / 1000;
writeFileSync(spec.clsOut, new Uint8Array(first.buffer, first.byteOffset, first.byteLength));
const samples: number[] = [];
for (let i = 0; i < spec.iters; i++) {
  const t = performance.now();
  await run();
  samples.push(performance.now() - t);
}
process.stdout.write(
  `${JSON.stringify({
    samples_ms: samples,
    compile_s: compileS,
    peak_rss_gib: (process.resourceUsage().maxRSS * 1024) / 2 ** 30,
    loadavg: [before, loadavg()[0]!],
  })}\n`,
);
