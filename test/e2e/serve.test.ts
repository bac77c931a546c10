// `dinov2 serve` in a real browser: Debian's Chromium, headless, driven by playwright-core (no
// browser download). The model is trained for 3 iterations by `dinov2 train` (in this process; a
// 48-wide, 1-block ViT/14 on the built-in synthetic set), then `dinov2 serve` (a child process)
// serves it at 112 px (8×8 patches); two PNGs are picked on the page. The page's CLS and patch
// features must equal Node's `embed` within 1e-4 (same transform code, lossless PNG decoding on
// both sides), the PCA pictures must not be blank, the matches and gallery neighbours must show,
// and every request must stay on the local server.
// Skipped only where chromium is missing outside CI (CI installs it: .ci/run).
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPage } from "../../scripts/build-page.js";
import { runCli } from "../../src/cli/run-cli.js";
import { writePng } from "../../src/eval/png.js";
import { embed } from "../../src/inference/index.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SKIP =
  !existsSync(CHROMIUM) && !process.env.CI
    ? `${CHROMIUM} not found (apt-get install -y chromium); CI never skips this test`
    : undefined;
if (SKIP) process.stderr.write(`serve.test.ts skipped: ${SKIP}\n`);

const IMAGE_SIZE = 112;
// LayerScale 1 rather than the preset's 1e-5: otherwise, after 3 iterations the block adds next
// to nothing and every image's CLS token is the same vector (cosine 1.0000000 between all three).
const TRAIN_SETS = [...TINY_TRAIN_SETS, "student.layerscale=1"];
const DIM = 48; // vit_nano

/** A scene: a textured gradient background, a disc and a square placed by `seed`. */
function scene(width: number, height: number, seed: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  let s = seed * 7919 + 1;
  const rand = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const cx = width * (0.3 + 0.4 * rand());
  const cy = height * (0.3 + 0.4 * rand());
  const r = Math.min(width, height) * 0.22;
  const sx = width * 0.6 * rand();
  const sy = height * 0.6 * rand();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      const noise = 20 * rand();
      let c = [60 + (120 * y) / height + noise, 90 + noise, 70 + (100 * x) / width];
      if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) c = [230, 40 + noise, 30];
      else if (x >= sx && x < sx + r && y >= sy && y < sy + r) c = [30, 60, 220 - noise];
      for (let k = 0; k < 3; k++) rgb[i + k] = Math.round(c[k]!);
    }
  }
  return rgb;
}

// The page.evaluate callbacks run in the browser; this file is typechecked without DOM types.
interface CanvasLike {
  readonly width: number;
  readonly height: number;
  getContext(kind: "2d"): { getImageData(...xywh: number[]): { data: Uint8ClampedArray } } | null;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<CanvasLike> & Iterable<CanvasLike>;
};
declare const crossOriginIsolated: boolean;
declare const window: {
  dinov2Page: { features(i: number): { cls: number[]; patches: number[] } };
};

function log(line: string): void {
  process.stderr.write(`serve.test.ts: ${line}\n`);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// In CI a missing chromium is a failed test, not a skip nor only a failed hook.
it.skipIf(SKIP !== undefined)(`chromium is installed at ${CHROMIUM}`, () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium`).toBe(true);
});

describe.skipIf(SKIP !== undefined)("dinov2 serve in Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "dinov2-serve-e2e-"));
  const images = [join(dir, "a.png"), join(dir, "b.png")];
  const gallery = join(dir, "gallery");
  const hf = join(dir, "train", "export", "hf");
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let url = "";

  beforeAll(async () => {
    const t0 = performance.now();
    // `dinov2 train`, in this process (no second Node start-up; the command is the same).
    const trainLog: string[] = [];
    const train = runCli(
      [
        "train",
        "--preset",
        "vits14-demo",
        ...TRAIN_SETS.flatMap((s) => ["--set", s]),
        "--iters",
        "3",
        "--threads",
        "1",
        "--output-dir",
        join(dir, "train"),
      ],
      (t) => trainLog.push(t),
      (t) => trainLog.push(t),
    ).then((code) => expect(code, trainLog.join("\n")).toBe(0));
    writePng(images[0]!, scene(96, 80, 1), 96, 80);
    writePng(images[1]!, scene(80, 96, 2), 80, 96);
    mkdirSync(gallery);
    copyFileSync(images[0]!, join(gallery, "a.png"));
    copyFileSync(images[1]!, join(gallery, "b.png"));
    writePng(join(gallery, "c.png"), scene(64, 64, 3), 64, 64);
    const launch = chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    [browser] = await Promise.all([launch, train, buildPage(join(dir, "page"))]);
    log(
      `trained, built the page and started chromium in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    server = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "serve",
        "--model",
        hf,
        "--port",
        "0",
        "--image-size",
        String(IMAGE_SIZE),
        "--gallery",
        gallery,
        "--page-dir",
        join(dir, "page"),
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    server.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    url = await new Promise<string>((ok, fail) => {
      let out = "";
      server!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          log(`server up after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          ok(m[1]!);
        }
      });
      server!.on("exit", (code) => fail(new Error(`serve exited ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (server?.exitCode === null) server.kill("SIGKILL");
    // Keep the screenshot and the images; drop the run and the built page.
    for (const d of ["train", "page"]) rmSync(join(dir, d), { recursive: true, force: true });
  });

  it("shows PCA pictures, matches and neighbours, with features equal to Node's embed", async () => {
    const node = await embed(images, {
      modelPath: hf,
      imageSize: IMAGE_SIZE,
      batchSize: 2,
      patchTokens: true,
      threads: 1,
    });
    const nodeGallery = await embed(
      ["a.png", "b.png", "c.png"].map((f) => join(gallery, f)),
      { modelPath: hf, imageSize: IMAGE_SIZE, batchSize: 3, threads: 1 },
    );
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const foreign: string[] = [];
    const failed: string[] = [];
    const consoleErrors: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(url)) foreign.push(r.url());
    });
    page.on("requestfailed", (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.url()}: ${r.status()}`);
    });
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(e.message));
    const t0 = performance.now();
    const since = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    await page.goto(url);
    await page.waitForSelector("body[data-state=ready]", { timeout: 30_000 });
    log(`page ready (model loaded, gallery embedded) after ${since()}`);
    await page.setInputFiles("#pick", images);
    await page.waitForSelector("#images .card:nth-child(2) canvas.pca", { timeout: 30_000 });
    await page.waitForSelector("#matches canvas.matches");
    await page.waitForFunction(() => document.querySelectorAll(".neighbours").length === 2);
    log(`both pictures after ${since()}`);

    const patchCount = (IMAGE_SIZE / 14) ** 2;
    for (let i = 0; i < 2; i++) {
      const got = await page.evaluate((n) => window.dinov2Page.features(n), i);
      const cls = node.cls.subarray(i * DIM, (i + 1) * DIM);
      const patches = node.patches!.subarray(i * patchCount * DIM, (i + 1) * patchCount * DIM);
      const [dc, dp] = [maxAbsDiff(got.cls, cls), maxAbsDiff(got.patches, patches)];
      log(
        `image ${i}: max |page - embed| CLS ${dc.toExponential(1)}, patches ${dp.toExponential(1)}`,
      );
      expect(dc, `image ${i} CLS`).toBeLessThan(1e-4);
      expect(dp, `image ${i} patches`).toBeLessThan(1e-4);
    }

    // Not blank: the 8×8 PCA cells take many colours (a blank or constant picture has 1).
    const colours = await page.evaluate(() =>
      [...document.querySelectorAll("canvas.pca")].map((c) => {
        const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < d.length; i += 4)
          seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        return { size: [c.width, c.height], distinct: seen.size };
      }),
    );
    for (const c of colours) {
      expect(c.size).toEqual([IMAGE_SIZE, IMAGE_SIZE]);
      expect(c.distinct).toBeGreaterThanOrEqual(16);
    }
    const note = await page.textContent("#matches p");
    expect(note).toMatch(/^a\.png ↔ b\.png: [1-9]\d* mutual nearest patch pairs/);
    // Each row: the gallery ranked by cosine to the picked image, as Node's features rank it
    // (each picked image is in the gallery, so it comes first at 1.000).
    const rows = await page.$$eval(".neighbours", (rs) =>
      rs.map((r) => [...r.querySelectorAll("figcaption")].map((f) => f.textContent)),
    );
    const names = ["a.png", "b.png", "c.png"];
    const cos = (i: number, j: number) => {
      const [u, v] = [i, j].map((k) => nodeGallery.cls.subarray(k * DIM, (k + 1) * DIM));
      const dot = (x: Float32Array, y: Float32Array) => x.reduce((t, xi, k) => t + xi * y[k]!, 0);
      return dot(u!, v!) / Math.sqrt(dot(u!, u!) * dot(v!, v!));
    };
    const expected = [0, 1].map((q) =>
      [0, 1, 2]
        .map((g) => ({ g, s: cos(q, g) }))
        .sort((x, y) => y.s - x.s)
        .map(({ g, s }) => `${names[g]} · ${s.toFixed(3)}`),
    );
    expect(expected.map((r) => r[0])).toEqual(["a.png · 1.000", "b.png · 1.000"]);
    expect(rows).toEqual(expected);
    expect(await page.textContent("#gallery-note")).toBe("3 gallery images embedded");

    // Background removal: the picture is redrawn with the low-first-component patches black.
    const black = () =>
      page.evaluate(() =>
        [...document.querySelectorAll("canvas.pca")].map((c) => {
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! === 0) n++;
          return n / (d.length / 4);
        }),
      );
    const before = await black();
    await page.check("#foreground");
    const after = await black();
    for (const [i, f] of after.entries()) {
      expect(f).toBeGreaterThan(before[i]!);
      expect(f).toBeLessThan(1);
    }
    // COOP/COEP headers make the page cross-origin isolated, so onnxruntime-web may use threads.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(foreign).toEqual([]);
    expect(failed).toEqual([]);
    expect(consoleErrors).toEqual([]);
    const shot = join(dir, "serve-page.png");
    await page.screenshot({ path: shot, fullPage: true });
    log(`screenshot ${shot}`);
  });

  it("stops on Ctrl-C (SIGINT) with exit code 0", async () => {
    const exited = new Promise<number | null>((ok) => server!.once("exit", (code) => ok(code)));
    server!.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
