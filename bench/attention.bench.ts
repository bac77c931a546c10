// Memory-efficient (query-chunked) attention against full attention for long sequences: a ViT-S/14
// forward at 518² (1,370 tokens), batch 4, each variant in its own process.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bench } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));

function worker(spec: object): Record<string, number> {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(here, "attention-worker.ts"), JSON.stringify(spec)],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`attention worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
}

export const bench: Bench = {
  provider: "cpu",
  question: "What do query chunks save in memory and cost in time for 518² crops?",
  run: async ({ log }) => {
    const full = worker({ chunk: 0, batch: 4, iters: 3 });
    log(`full attention: ${JSON.stringify(full)}`);
    const chunked = worker({ chunk: 256, batch: 4, iters: 3 });
    log(`chunks of 256 queries: ${JSON.stringify(chunked)}`);
    return {
      vits14_518_full_img_s: full.img_s!,
      vits14_518_full_peak_rss_gib: full.peak_rss_gib!,
      vits14_518_chunked_img_s: chunked.img_s!,
      vits14_518_chunked_peak_rss_gib: chunked.peak_rss_gib!,
      chunked_vs_full_speed: chunked.img_s! / full.img_s!,
      chunked_vs_full_peak_rss: chunked.peak_rss_gib! / full.peak_rss_gib!,
      details: { batch: 4, tokens: 1370, query_chunk: 256 },
    };
  },
};
