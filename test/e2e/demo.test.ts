// The main job (`npm start` = `dinov2 demo`), shortened: it trains, evaluates the trained teacher
// and its own starting point by k-NN, and writes the pictures, metrics and exported teacher.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoCommand } from "../../src/cli/commands/demo.js";
import { resolveConfig } from "../../src/config/index.js";
import { readPng } from "../../src/eval/png.js";
import { createBackbone, loadBackbone } from "../../src/models/backbone.js";
import { stepConfigFromTrain } from "../../src/train/from-config.js";
import { runTraining, teacherBackbone } from "../../src/train/loop.js";
import { sameBits } from "../helpers/same-bits.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

describe("dinov2 demo", () => {
  it("prints knn_top1_trained and knn_top1_random and writes its pictures, report and exports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dinov2-demo-"));
    const out: string[] = [];
    // Shortened: the tiny test model, 2 iterations, a 40 + 20 image k-NN split (the default is
    // 1,000 + 500); everything else (PCA at 112px, the report) as `npm start` does it.
    const sets = TINY_TRAIN_SETS.flatMap((s) => ["--set", s]);
    const args = ["--iters", "2", "--knn-images", "40", "--output-dir", dir, ...sets];
    expect(await demoCommand.invoke(args, (s) => out.push(s))).toBe(0);
    const r = JSON.parse(out[out.length - 1]!) as Record<string, unknown> & {
      files: Record<string, string>;
    };
    // k-NN top-1 over the demo's 500 queries: a whole number of hits / 500.
    for (const k of ["knn_top1_trained", "knn_top1_random"]) {
      const hits = Math.round((r[k] as number) * 500);
      expect(hits, k).toBeGreaterThanOrEqual(0);
      expect(hits, k).toBeLessThanOrEqual(500);
      expect(Math.abs((r[k] as number) - hits / 500), `${k} = ${r[k]}`).toBeLessThan(1e-9);
    }
    for (const f of ["pca", "loss_curve", "metrics", "teacher_official", "report"])
      expect(existsSync(r.files[f]!), f).toBe(true);
    // The PCA picture is at 8×8 patches per image: 112px inputs, 14px patches, 14px per cell.
    const pca = readPng(r.files.pca!);
    expect(pca.width).toBeGreaterThanOrEqual(2 * 8 * 14);
    expect(pca.height).toBeGreaterThanOrEqual(6 * 8 * 14);
    // The report is one self-contained page: no external URL, every picture a PNG data: URL.
    const html = readFileSync(r.files.report!, "utf8");
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\//);
    const images = [
      ...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"[^>]*alt="([^"]+)"/g),
    ];
    expect(images.map((m) => m[2])).toEqual([
      "loss terms over iterations",
      "k-NN top-1 over iterations",
      "PCA of patch features",
      "nearest neighbours",
    ]);
    for (const m of images)
      expect(Buffer.from(m[1]!, "base64").subarray(1, 4).toString("latin1")).toBe("PNG");
    // The numbers it shows are the ones printed.
    expect(html).toContain(
      `<td>k-NN top-1, trained teacher</td><td>${(r.knn_top1_trained as number).toFixed(3)}</td>`,
    );
    expect(html).toContain(
      `<td>k-NN top-1, same network at its random init</td><td>${(r.knn_top1_random as number).toFixed(3)}</td>`,
    );
    expect(readFileSync(r.files.metrics!, "utf8").trim().split("\n")).toHaveLength(2);
    expect(loadBackbone(r.files.teacher_hf!).options.numHeads).toBe(3);
  });

  it("its random baseline is the network training starts from", async () => {
    const resolved = resolveConfig({ preset: "vits14-demo", sets: [...TINY_TRAIN_SETS] });
    const start = await runTraining({
      resolved,
      dataset: { kind: "synthetic", seed: 1, length: 8, size: 32 },
      outputDir: mkdtempSync(join(tmpdir(), "dinov2-init-")),
      iters: 0,
      threads: 1,
    });
    const init = teacherBackbone(start.state);
    const baseline = createBackbone(
      stepConfigFromTrain(resolved).arch.backbone,
      resolved.cfg.train.seed,
    ).weights;
    for (const [k, v] of init) expect(sameBits(baseline.get(k)!, v), k).toBe(true);
  });
});
