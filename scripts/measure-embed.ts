// One-off measurement of a model through the embed path: load time, compile time, images/s and
// CPU-seconds per image at 224², batch 2, peak RSS (VmHWM), load average. Used for the ViT-g/14
// figures in the README (too slow for `npm run bench`):
//   python3 scripts/make-vitg-pth.py /tmp/dinov2_vitg14_pretrain.pth   # needs torch
//   npx tsx scripts/measure-embed.ts /tmp/dinov2_vitg14_pretrain.pth 3
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createEmbedder } from "../src/inference/index.js";
import { createBackbone, loadBackbone } from "../src/models/backbone.js";
import { isVitPreset, vitOptions } from "../src/models/presets.js";

const BATCH = 2;
const SIDE = 224;

async function main(spec: string, runs: number): Promise<void> {
  const load0 = loadavg()[0];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let t = performance.now();
  let c = cpu();
  const backbone = isVitPreset(spec) ? createBackbone(vitOptions(spec), 0) : loadBackbone(spec);
  const load = { s: (performance.now() - t) / 1000, cpuS: cpu() - c };
  t = performance.now();
  c = cpu();
  const e = await createEmbedder({ backbone, batchSize: BATCH, imageSize: SIDE });
  const compile = { s: (performance.now() - t) / 1000, cpuS: cpu() - c };
  const px = Float32Array.from({ length: BATCH * 3 * SIDE * SIDE }, (_, i) => Math.sin(i) / 2);
  await e.run(px); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    t = performance.now();
    c = cpu();
    await e.run(px);
    walls.push((performance.now() - t) / 1000);
    cpus.push(cpu() - c);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  console.log(
    JSON.stringify({
      spec,
      load,
      compile,
      img_s: BATCH / median(walls),
      cpu_s_per_img: median(cpus) / BATCH,
      walls,
      peak_rss_gib: hwm === undefined ? null : Number(hwm) / 2 ** 20,
      loadavg: [load0, loadavg()[0]],
    }),
  );
  await e.release();
}

main(process.argv[2] ?? "vits14", Number(process.argv[3] ?? 3));
