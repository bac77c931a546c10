// Fixture sets may hold any subset of the fixture kinds: the parity suite, run on a root holding
// only some kinds, skips the others and passes; on a root holding no known fixture exactly one
// test (fixtures-known) fails. Runs the parity suite in a child process on temporary roots made of
// links to the real fixture files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureSets, fixturesRoot } from "./helpers/fixtures.js";

const NESTED = "DINOV2_FIXTURE_SUBSET_CHILD";
const REPO = resolve(import.meta.dirname, "..");
const FILES = [
  "src/data/augment.parity.test.ts",
  "src/io/checkpoint.parity.test.ts",
  "src/losses/losses.parity.test.ts",
  "src/models/vision-transformer.parity.test.ts",
  "src/train/param-groups.parity.test.ts",
  "src/train/train-step.parity.test.ts",
  "test/fixtures-known.parity.test.ts",
];

function runParity(root: string): { status: number | null; summary: string } {
  const r = spawnSync(
    process.execPath,
    [
      join(REPO, "node_modules/vitest/vitest.mjs"),
      "run",
      "--config",
      "vitest.parity.config.ts",
      ...FILES,
    ],
    {
      cwd: REPO,
      // The nested suite's counts are this test's business, not CI's closing line.
      env: { ...process.env, DINOV2_FIXTURES: root, [NESTED]: "1", DINOV2_TEST_TOTALS: "" },
      encoding: "utf8",
      timeout: 240_000,
    },
  );
  const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(r.stdout)?.[0] ?? r.stdout;
  return { status: r.status, summary };
}

/** A root with one set holding links to the files of the real set whose names start with `kinds`. */
function subsetRoot(kinds: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), "dinov2-fixture-subset-"));
  const set = join(root, "subset");
  mkdirSync(set);
  const src = fixtureSets().find((s) => readdirSync(s.dir).some((f) => f.startsWith(kinds[0]!)));
  for (const f of readdirSync(src!.dir).filter((f) => kinds.some((k) => f.startsWith(k))))
    symlinkSync(join(src!.dir, f), join(set, f));
  return root;
}

const realRootHasLosses =
  process.env[NESTED] === undefined &&
  existsSync(fixturesRoot()) &&
  fixtureSets().some((s) => existsSync(join(s.dir, "losses.safetensors")));

describe.runIf(process.env[NESTED] === undefined)("parity suite on fixture subsets", () => {
  it.runIf(realRootHasLosses)(
    "a root holding only losses.* passes, the other kinds skipped",
    () => {
      const r = runParity(subsetRoot(["losses."]));
      expect(r.summary).toMatch(/^[1-9]\d* passed, 0 failed, [1-9]\d* skipped$/);
      expect(r.status).toBe(0);
    },
  );

  it("a root holding no known fixture fails exactly one test", () => {
    const empty = mkdtempSync(join(tmpdir(), "dinov2-fixture-empty-"));
    const r = runParity(empty);
    expect(r.summary).toMatch(/^0 passed, 1 failed, \d+ skipped$/);
    expect(r.status).not.toBe(0);
  });
});
