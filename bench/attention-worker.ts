// One ViT-S/14 forward at 518² in its own process (peak RSS is its own): full or chunked attention.
import { hostTensor, input } from "../src/core/index.js";
import { createBackbone } from "../src/models/backbone.js";
import { vitOptions } from "../src/models/presets.js";
import { DinoVisionTransformer } from "../src/models/vision-transformer.js";
import { bindConstants } from "../src/nn/module.js";
import { createRuntime } from "../src/runtime/index.js";

const { chunk, batch, iters } = JSON.parse(process.argv[2]!) as {
  chunk: number;
  batch: number;
  iters: number;
};
const options = { ...vitOptions("vits14"), ...(chunk ? { queryChunk: chunk } : {}) };
const { weights } = createBackbone(vitOptions("vits14"), 0);
const m = new DinoVisionTransformer(options);
bindConstants(m, weights);
const shape = [batch, 3, 518, 518];
const exe = await (await createRuntime()).compile({
  y: m.forwardFeatures(input("x", shape)).clsToken,
});
const x = hostTensor("float32", shape, new Float32Array(batch * 3 * 518 * 518).fill(0.1));
await exe.run({ x });
const times: number[] = [];
for (let i = 0; i < iters; i++) {
  const t = performance.now();
  await exe.run({ x });
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)]!;
process.stdout.write(
  `${JSON.stringify({ ms_median: med, img_s: (batch * 1000) / med, peak_rss_gib: process.resourceUsage().maxRSS / 2 ** 20 })}\n`,
);
