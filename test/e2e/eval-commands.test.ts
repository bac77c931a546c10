// The frozen-feature evaluations end to end: eval-knn, eval-linear, eval-logreg and eval-retrieval
// on small labeled folders and on the built-in synthetic set, with a tiny 4-block ViT saved as a
// Hugging Face folder; each prints a table and one JSON line and writes its results file.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { evalKnnCommand } from "../../src/cli/commands/eval-knn.js";
import { evalLinearCommand } from "../../src/cli/commands/eval-linear.js";
import { evalLogregCommand } from "../../src/cli/commands/eval-logreg.js";
import { evalRetrievalCommand } from "../../src/cli/commands/eval-retrieval.js";
import { renderSynthetic } from "../../src/data/datasets/synthetic.js";
import { createRng } from "../../src/data/rng.js";
import { readPng } from "../../src/eval/png.js";
import { officialToHf, optionsToHfConfig, writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../../src/models/presets.js";

const TINY: VitOptions = {
  ...VIT_DEFAULTS,
  imgSize: 28,
  embedDim: 24,
  depth: 4,
  numHeads: 2,
  patchSize: 14,
  layerscale: 1,
};

let root = "";
let model = "";

async function savePng(path: string, label: number, key: string): Promise<void> {
  const img = renderSynthetic(createRng(key), label, 48);
  await sharp(Buffer.from(img.data), { raw: { width: 48, height: 48, channels: 3 } })
    .png()
    .toFile(path);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "dinov2-eval-"));
  model = join(root, "model");
  mkdirSync(model);
  writeFileSync(join(model, "config.json"), JSON.stringify(optionsToHfConfig(TINY)));
  writeSafetensorsFile(
    join(model, "model.safetensors"),
    officialToHf(createBackbone(TINY, 7).weights),
  );
  for (const [split, n] of [
    ["train", 10],
    ["val", 3],
  ] as const) {
    for (const label of [0, 1]) {
      const dir = join(root, split, `class${label}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < n; i++)
        await savePng(join(dir, `${i}.png`), label, `${split}-${label}-${i}`);
    }
  }
  mkdirSync(join(root, "other", "class0"), { recursive: true });
  mkdirSync(join(root, "other", "class2"), { recursive: true });
  await savePng(join(root, "other", "class0", "a.png"), 0, "o0");
  await savePng(join(root, "other", "class2", "b.png"), 2, "o2");
  // Retrieval: 2 queries, 6 database images (3 discs, 3 squares).
  mkdirSync(join(root, "q"));
  mkdirSync(join(root, "db"));
  await savePng(join(root, "q", "disc.png"), 0, "q0");
  await savePng(join(root, "q", "square.png"), 1, "q1");
  for (let i = 0; i < 6; i++) await savePng(join(root, "db", `${i}.png`), i % 2, `db${i}`);
}, 60_000);

function expectHitsOf(v: number, n: number): void {
  const hits = Math.round(v * n);
  expect(hits).toBeGreaterThanOrEqual(0);
  expect(hits).toBeLessThanOrEqual(n);
  expect(Math.abs(v - hits / n), `${v} is not a count of hits / ${n}`).toBeLessThan(1e-9);
}

async function run(
  cmd: { invoke: typeof evalKnnCommand.invoke },
  argv: string[],
): Promise<{ code: number | undefined; json: Record<string, unknown>; text: string }> {
  const out: string[] = [];
  const code = await cmd.invoke(argv, (s) => out.push(s));
  return {
    code,
    json: JSON.parse(out[out.length - 1]!) as Record<string, unknown>,
    text: out.join("\n"),
  };
}

const folders = () => [
  "--model",
  model,
  "--train",
  join(root, "train"),
  "--val",
  join(root, "val"),
  "--image-size",
  "28",
];
const outDir = (name: string) => ["--output-dir", join(root, "out", name)];
const results = (name: string, file: string) =>
  JSON.parse(readFileSync(join(root, "out", name, file), "utf8")) as Record<string, unknown>;

describe("eval commands", () => {
  it("eval-knn: full and few-shot on class folders", async () => {
    const { code, json, text } = await run(evalKnnCommand, [
      ...folders(),
      ...outDir("knn"),
      "--ks",
      "3,5,100",
      "--n-per-class=-1,2",
      "--n-tries",
      "2",
    ]);
    expect(code).toBe(0);
    const top1 = json.knn_top1 as Record<string, number>;
    expect(Object.keys(top1).sort()).toEqual(["3", "5"]);
    // Top-1 over the 6 val images: a count of hits / 6 (a wrong denominator, e.g. padded rows,
    // or a NaN fails this).
    for (const v of Object.values(top1)) expectHitsOf(v, 6);
    expect((json.knn_top5 as Record<string, number>)["3"]).toBe(1); // 2 classes: top-5 always holds
    const few = json.few_shot as { setting: string; top1: Record<string, number> }[];
    expect(few.map((f) => f.setting)).toEqual(["2/class try 1", "2/class try 2"]);
    expect(Object.keys(few[0]!.top1)).toEqual(["3"]); // 4 rows: k = 5 and 100 left out
    expect(text).toMatch(/setting\s+train\s+k\s+top-1\s+top-5/);
    expect((results("knn", "results_eval_knn.json").results as unknown[]).length).toBe(3);
  });

  it("eval-linear: the 4 × 13 grid on cached features, best head named, loss curve drawn", async () => {
    const { code, json } = await run(evalLinearCommand, [
      ...folders(),
      ...outDir("linear"),
      "--iterations",
      "30",
      "--batch-size",
      "8",
    ]);
    expect(code).toBe(0);
    expectHitsOf(json.linear_top1 as number, 6);
    expect(json.best_head).toMatch(/^classifier_[14]_blocks_avgpool_(True|False)_lr_0_\d{5}$/);
    expect(json.feature_mode).toBe("cached-features");
    const r = results("linear", "results_eval_linear.json");
    expect((r.heads as unknown[]).length).toBe(52);
    expect(r.feature_mode).toBe("cached-features");
    const png = readPng(join(root, "out", "linear", "loss_curve.png"));
    expect(png.width).toBe(800);
  });

  it("eval-linear --augment: features recomputed from augmented pixels every step", async () => {
    const { code, json } = await run(evalLinearCommand, [
      ...folders(),
      ...outDir("linear-aug"),
      "--augment",
      "--iterations",
      "3",
      "--batch-size",
      "4",
      "--learning-rates",
      "0.01,0.1",
    ]);
    expect(code).toBe(0);
    expect(json.feature_mode).toBe("augment");
    const r = results("linear-aug", "results_eval_linear.json");
    expect((r.heads as unknown[]).length).toBe(8);
    expect(r.simplifications as string[]).not.toContain(expect.stringMatching(/cached/));
  });

  it("eval-logreg: sweeps C on 10% of train and reports the refit on val", async () => {
    const { code, json } = await run(evalLogregCommand, [
      ...folders(),
      ...outDir("logreg"),
      "--c-values",
      "1e-6,1,1e5",
    ]);
    expect(code).toBe(0);
    expect([1e-6, 1, 1e5]).toContain(json.best_C);
    const r = results("logreg", "results_eval_logreg.json");
    expect(r.finetune_rows).toBe(2);
    expect((r.sweep as unknown[]).length).toBe(3);
    expect(existsSync(join(root, "out", "logreg", "sweep.png"))).toBe(true);
  });

  it("eval-retrieval: revisited E/M/H from a ground-truth file, with the top-hits picture", async () => {
    const gt = join(root, "gt.json");
    writeFileSync(
      gt,
      JSON.stringify({
        queries: [
          { query: "disc.png", easy: ["0.png", "2.png"], hard: ["4.png"], junk: ["1.png"] },
          { query: "square.png", easy: ["1.png"], hard: ["3.png", "5.png"], bbox: [4, 4, 40, 40] },
        ],
      }),
    );
    const { code, json } = await run(evalRetrievalCommand, [
      "--model",
      model,
      "--queries",
      join(root, "q"),
      "--database",
      join(root, "db"),
      "--gt",
      gt,
      "--image-size",
      "28",
      ...outDir("retrieval"),
      "--pooling",
      "gem",
    ]);
    expect(code).toBe(0);
    const r = json.retrieval as Record<string, { mAP: number; recall: Record<string, number> }>;
    expect(Object.keys(r)).toEqual(["easy", "medium", "hard"]);
    for (const p of Object.values(r)) {
      expect(p.mAP).toBeGreaterThan(0);
      expect(p.mAP).toBeLessThanOrEqual(1);
      expect(p.recall["10"]).toBe(1); // 6 images: every relevant one is in the top 10
    }
    const png = readPng(join(root, "out", "retrieval", "top_hits.png"));
    expect(png.height).toBeGreaterThan(2 * 96);
  });

  it("eval-retrieval names a ground-truth image missing from the folders", async () => {
    const gt = join(root, "gt-bad.json");
    writeFileSync(
      gt,
      JSON.stringify({ queries: [{ query: "disc.png", relevant: ["0.png", "nope.png"] }] }),
    );
    await expect(
      run(evalRetrievalCommand, [
        "--model",
        model,
        "--queries",
        join(root, "q"),
        "--database",
        join(root, "db"),
        "--gt",
        gt,
        ...outDir("r2"),
      ]),
    ).rejects.toThrow(
      new RegExp(
        `--gt ${gt} names images not among the query / database images: database: nope.png`,
      ),
    );
    // A `database` list limits the database: a relevant image outside it is refused too.
    writeFileSync(
      gt,
      JSON.stringify({
        database: ["0.png", "1.png"],
        queries: [{ query: "disc.png", relevant: ["0.png", "2.png"] }],
      }),
    );
    await expect(
      run(evalRetrievalCommand, [
        "--model",
        model,
        "--queries",
        join(root, "q"),
        "--database",
        join(root, "db"),
        "--gt",
        gt,
        ...outDir("r2"),
      ]),
    ).rejects.toThrow(/names images not among the query \/ database images: database: 2.png/);
  });

  it("runs every command on the built-in synthetic set", async () => {
    const syn = ["--model", model, "--image-size", "28", "--synthetic", "40,20"];
    expect((await run(evalKnnCommand, [...syn, ...outDir("s-knn"), "--ks", "5"])).code).toBe(0);
    expect(
      (
        await run(evalLinearCommand, [
          ...syn,
          ...outDir("s-lin"),
          "--iterations",
          "5",
          "--learning-rates",
          "0.1",
        ])
      ).code,
    ).toBe(0);
    expect(
      (await run(evalLogregCommand, [...syn, ...outDir("s-log"), "--c-values", "1"])).code,
    ).toBe(0);
    const r = await run(evalRetrievalCommand, [
      "--model",
      model,
      "--image-size",
      "28",
      "--synthetic",
      "5,30",
      ...outDir("s-ret"),
      "--show",
      "2",
    ]);
    expect(Object.keys(r.json.retrieval as object)).toEqual(["all"]);
    expect(results("s-knn", "results_eval_knn.json").train).toBe("synthetic(seed=1001, n=40)");
  });

  it("refuses class folders that differ between the splits, and a folder without classes", async () => {
    await expect(
      run(evalKnnCommand, [
        "--model",
        model,
        "--train",
        join(root, "train"),
        "--val",
        join(root, "other"),
        ...outDir("bad"),
      ]),
    ).rejects.toThrow(
      /class folders differ between .*train and .*other: only in .*train: class1; only in .*other: class2/,
    );
    await expect(
      run(evalKnnCommand, [
        "--model",
        model,
        "--train",
        join(root, "train", "class0"),
        "--val",
        join(root, "val"),
        ...outDir("bad"),
      ]),
    ).rejects.toThrow(/needs class subfolders/);
  });
});
