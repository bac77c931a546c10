// `dinov2 curate` end to end on a planted synthetic pool and a tiny random ViT saved to disk:
// N worker processes of embed and dedup (one taking its index from JOB_COMPLETION_INDEX) give the
// single process's kept set; a killed embed resumes to the same pool; bad input is named.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { CurateStore, column } from "../../src/curate/store.js";
import { writeSyntheticPool } from "../../src/curate/synthetic-pool.js";
import { writeSafetensorsFile } from "../../src/io/index.js";
import { createBackbone } from "../../src/models/backbone.js";
import { VIT_DEFAULTS } from "../../src/models/presets.js";
import { type CliOutput, runCliCaptured } from "../helpers/run-cli-captured.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const NODE_ARGS = ["--import", "tsx", "src/cli/main.ts", "curate"];

function saveModel(dir: string, embedDim: number): string {
  const path = join(dir, `vit${embedDim}.safetensors`);
  const b = createBackbone(
    { ...VIT_DEFAULTS, imgSize: 28, embedDim, numHeads: embedDim / 64, depth: 1 },
    0,
  );
  writeSafetensorsFile(path, new Map(b.weights));
  return path;
}

/** In-process run of `dinov2 curate ...`, as the CLI prints it. */
function curate(args: string[]): Promise<CliOutput> {
  return runCliCaptured(["curate", ...args]);
}

function curateAsync(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, done: new Promise((res) => child.on("close", (code) => res({ code, out }))) };
}

async function kept(db: string): Promise<string[]> {
  const s = await CurateStore.open(db);
  try {
    return column<string>(await s.read("dedup_kept", ["path"]), "path").sort();
  } finally {
    s.close();
  }
}

let dir: string;
let model: string;
let poolDir: string;
let testDir: string;
const common = () => [
  "--model",
  model,
  "--image-size",
  "28",
  "--batch-size",
  "8",
  "--threads",
  "1",
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "curate-e2e-"));
  model = saveModel(dir, 64);
  const p = await writeSyntheticPool({ dir, seed: 5, originals: 60, copies: 16, testImages: 6 });
  poolDir = p.poolDir;
  testDir = p.testDir;
}, 60_000);

describe("dinov2 curate", () => {
  it("2 worker processes of embed and dedup keep exactly the single process's set", async () => {
    const single = join(dir, "single");
    expect((await curate(["embed", "--db", single, "--input", poolDir, ...common()])).code).toBe(0);
    const d1 = await curate(["dedup", "--db", single, "--against", testDir]);
    expect(d1.code, d1.stderr).toBe(0);
    expect(d1.stdout).toMatch(/removed 16 copies in 16 groups .* and 6 near-eval images/);

    const sharded = join(dir, "sharded");
    // Worker 1 takes its index from the Kubernetes Indexed Job variable.
    const workers = [0, 1].map((i) =>
      curateAsync(
        [
          "embed",
          "--db",
          sharded,
          "--input",
          poolDir,
          "--shard",
          i === 1 ? "2" : `${i}/2`,
          ...common(),
        ],
        i === 1 ? { JOB_COMPLETION_INDEX: "1" } : {},
      ),
    );
    for (const w of workers) expect((await w.done).code).toBe(0);
    expect((await curate(["embed", "--db", sharded, "--merge"])).stdout).toMatch(
      /2 parts -> pool of 82 images; 2 exact duplicates dropped, 2 files rejected/,
    );
    const dedups = [0, 1].map((i) =>
      curateAsync(["dedup", "--db", sharded, "--against", testDir, "--shard", `${i}/2`]),
    );
    for (const w of dedups) expect((await w.done).code).toBe(0);
    const m = await curate([
      "dedup",
      "--db",
      sharded,
      "--against",
      testDir,
      "--merge",
      "--shard",
      "2",
    ]);
    expect(m.code, m.stderr).toBe(0);
    expect(await kept(sharded)).toEqual(await kept(single));
    expect((await kept(single)).length).toBe(82 - 16 - 6);
  }, 240_000);

  it("a killed embed resumes without redoing committed chunks and ends with the same pool", async () => {
    const db = join(dir, "killed");
    const run = curateAsync(["embed", "--db", db, "--input", poolDir, "--chunk", "8", ...common()]);
    // Kill once at least two chunks are committed.
    let exited = false;
    void run.done.then(() => {
      exited = true;
    });
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      if (exited)
        throw new Error(`embed ended before it could be killed:\n${(await run.done).out}`);
      if (!existsSync(join(db, "embed_part_0of1.lance"))) continue;
      const s = await CurateStore.open(db);
      const n = await s.count("embed_part_0of1").catch(() => 0);
      s.close();
      if (n >= 16) break;
    }
    run.child.kill("SIGKILL");
    expect((await run.done).code).toBe(null);
    const again = await curate([
      "embed",
      "--db",
      db,
      "--input",
      poolDir,
      "--chunk",
      "8",
      ...common(),
    ]);
    expect(again.code, again.stderr).toBe(0);
    const resumed = Number(/(\d+) already done/.exec(again.stdout)![1]);
    expect(resumed).toBeGreaterThanOrEqual(16);
    expect(resumed).toBeLessThan(86);
    expect((await curate(["dedup", "--db", db, "--against", testDir])).code).toBe(0);
    expect(await kept(db)).toEqual(await kept(join(dir, "single")));
  }, 240_000);

  it("retrieve, export and report produce a train-ready folder and an HTML page", async () => {
    const db = join(dir, "single");
    expect((await curate(["cluster", "--db", db, "--levels", "8,2"])).code).toBe(0);
    const r = await curate([
      "retrieve",
      "--db",
      db,
      "--curated",
      testDir,
      "--per-query",
      "2",
      ...common(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, "export");
    const e = await curate(["export", "--db", db, "--output", out]);
    expect(e.stdout).toMatch(/from "retrieved"/);
    const files = readFileSync(join(out, "files.txt"), "utf8").trim().split("\n");
    const links = readdirSync(join(out, "images"));
    expect(links.length).toBe(files.length);
    expect(files).toContain(readlinkSync(join(out, "images", links[0]!)));
    const html = join(dir, "report.html");
    expect((await curate(["report", "--db", db, "--output", html])).code).toBe(0);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/Largest duplicate groups/);
    expect(page).toMatch(/Retrieval examples/);
    expect(page.match(/data:image\/png;base64,/g)!.length).toBeGreaterThanOrEqual(4);
  }, 240_000);

  it("cluster (--fit once), retrieve and export sharded over 2 processes give the single process's tables", async () => {
    // One database (the sharded embed's): each stage's single-process table first, then the same
    // stage by 2 worker processes (one indexed by SLURM_ARRAY_TASK_ID) and --merge.
    const db = join(dir, "sharded");
    const table = async (name: string, cols: string[]) => {
      const s = await CurateStore.open(db);
      try {
        const t = await s.read(name, cols);
        const c = cols.map((k) => column<string | number>(t, k));
        return c[0]!
          .map((_, r) => cols.map((_, j) => c[j]![r]))
          .sort((x, y) => Number(x[0]) - Number(y[0]));
      } finally {
        s.close();
      }
    };
    const run2 = async (args: string[], merge: string[]) => {
      const ws = [0, 1].map((i) =>
        curateAsync(
          [...args, "--shard", i === 1 ? "2" : `${i}/2`],
          i === 1 ? { SLURM_ARRAY_TASK_ID: "1" } : {},
        ),
      );
      const outs: string[] = [];
      for (const w of ws) {
        const r = await w.done;
        expect(r.code, r.out).toBe(0);
        outs.push(r.out);
      }
      const m = await curate([...merge, "--merge", "--shard", "2"]);
      expect(m.code, m.stderr).toBe(0);
      return outs;
    };
    const cols = ["id", "level0", "level1"];
    expect((await curate(["cluster", "--db", db, "--levels", "8,2"])).code).toBe(0);
    const oneClusters = await table("clusters", cols);
    expect((await curate(["cluster", "--db", db, "--fit", "--levels", "8,2"])).code).toBe(0);
    await run2(["cluster", "--db", db], ["cluster", "--db", db]);
    expect(await table("clusters", cols)).toEqual(oneClusters);

    const both = ["--mode", "both", "--per-query", "2", "--per-cluster", "3"];
    const rcols = ["id", "via", "query_path", "sim"];
    const one = await curate(["retrieve", "--db", db, "--curated", testDir, ...both, ...common()]);
    expect(one.code, one.stderr).toBe(0);
    const oneRetrieved = await table("retrieved", rcols);
    expect(oneRetrieved.length).toBeGreaterThan(0);
    await run2(
      ["retrieve", "--db", db, "--curated", testDir, ...both, ...common()],
      ["retrieve", "--db", db, ...both],
    );
    expect(await table("retrieved", rcols)).toEqual(oneRetrieved);
    // Through LanceDB's index: built once (--build-index), searched by both workers.
    const ann = [...both, "--ann", "hnsw-sq"];
    const b = await curate(["retrieve", "--db", db, "--build-index", ...ann]);
    expect(b.stdout).toMatch(/hnsw-sq index over \d+ kept embeddings built \(table "ann_kept"\)/);
    const oneAnn = await curate([
      "retrieve",
      "--db",
      db,
      "--curated",
      testDir,
      ...ann,
      ...common(),
    ]);
    expect(oneAnn.stdout).toMatch(/reusing a LanceDB hnsw-sq index .*"ann_kept"/);
    const annRetrieved = await table("retrieved", rcols);
    const outs = await run2(
      ["retrieve", "--db", db, "--curated", testDir, ...ann, ...common()],
      ["retrieve", "--db", db, ...ann],
    );
    for (const o of outs) expect(o).toMatch(/reusing a LanceDB hnsw-sq index .*"ann_kept"/);
    expect(await table("retrieved", rcols)).toEqual(annRetrieved);
    expect((await curate(["retrieve", "--db", db, "--build-index", ...ann])).stdout).toMatch(
      /already built/,
    );

    const single = join(dir, "export-single");
    expect((await curate(["export", "--db", db, "--output", single])).code).toBe(0);
    const out = join(dir, "export-sharded");
    await run2(["export", "--db", db, "--output", out], ["export", "--db", db, "--output", out]);
    expect(readFileSync(join(out, "files.txt"), "utf8")).toBe(
      readFileSync(join(single, "files.txt"), "utf8"),
    );
    expect(readdirSync(join(out, "images"))).toEqual(readdirSync(join(single, "images")));
    // sample and report run once: N > 1 is refused, saying why; 0/1 is accepted.
    const s = await curate(["sample", "--db", db, "--budget", "10", "--shard", "0/2"]);
    expect(s.stderr).toMatch(/curate sample runs in one process: it reads only the cluster labels/);
    const r = await curate([
      "report",
      "--db",
      db,
      "--output",
      join(dir, "r.html"),
      "--shard",
      "1/2",
    ]);
    expect(r.stderr).toMatch(/curate report runs in one process/);
    expect((await curate(["sample", "--db", db, "--budget", "10", "--shard", "0/1"])).code).toBe(0);
  }, 400_000);

  it("names the fault: empty pool, missing curated set, other embedding width, stray flag", async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), "curate-empty-"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(emptyDir, "zero.png"), "");
    const e = await curate(["embed", "--db", join(dir, "empty"), "--input", emptyDir, ...common()]);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/empty pool: none of the 1 files could be embedded/);
    const m = await curate([
      "retrieve",
      "--db",
      join(dir, "single"),
      "--curated",
      join(dir, "nope"),
      ...common(),
    ]);
    expect(m.stderr).toMatch(/no such file or folder/);
    expect(m.stderr).toContain(join(dir, "nope"));
    const wide = saveModel(dir, 128);
    const w = await curate([
      "embed",
      "--db",
      join(dir, "single"),
      "--input",
      poolDir,
      "--model",
      wide,
      "--image-size",
      "28",
    ]);
    expect(w.stderr).toMatch(
      /table "(pool|embed_part_0of1)": was embedded by .* \(embedding width 64, image 28px\); this run uses .* \(width 128, image 28px\)/,
    );
    const f = await curate(["cluster", "--db", join(dir, "single"), "--curated", testDir]);
    expect(f.stderr).toMatch(/--curated does not apply to `curate cluster`/);
  }, 240_000);
});
