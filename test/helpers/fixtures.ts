// Discovery of the reference fixture sets under $DINOV2_FIXTURES (default
// ../shared/fixtures/reference from the repository root), and comparison with their tolerances.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { fmtShape, type HostTensor, shapesEqual, toNumbers } from "../../src/core/index.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Files and folders that some parity test reads. */
export const KNOWN_FIXTURES = [
  "official_vit.safetensors",
  "official_vit.pth",
  "teacher_checkpoint.pth",
  "dino_head.safetensors",
  "losses.safetensors",
  "augment_functional.safetensors",
  "ssl_step_",
  "hf_dinov2",
] as const;

export interface FixtureSet {
  readonly name: string;
  readonly dir: string;
}

export function fixturesRoot(): string {
  return resolve(REPO_ROOT, process.env.DINOV2_FIXTURES ?? "../shared/fixtures/reference");
}

/** Every fixture set: each subfolder of the root, or the root itself when it holds fixtures. */
export function fixtureSets(): FixtureSet[] {
  const root = fixturesRoot();
  if (!existsSync(root))
    throw new Error(`fixture root ${root} does not exist (set DINOV2_FIXTURES)`);
  const holdsFixtures = (dir: string) =>
    readdirSync(dir).some((f) => KNOWN_FIXTURES.some((k) => f.startsWith(k)));
  if (holdsFixtures(root)) return [{ name: ".", dir: root }];
  return readdirSync(root)
    .filter((f) => statSync(join(root, f)).isDirectory())
    .sort()
    .map((name) => ({ name, dir: join(root, name) }));
}

/**
 * Fixture sets that hold `file` (a file or folder name; one "*" matches any run of characters).
 * A missing fixture root throws (parity tests must not pass vacuously) unless `optional`, for the
 * default suite's tests that use a fixture only when one is there.
 */
export function setsWith(
  file: string,
  opts: { optional?: boolean } = {},
): { set: FixtureSet; path: string }[] {
  const out: { set: FixtureSet; path: string }[] = [];
  if (opts.optional && !existsSync(fixturesRoot())) return out;
  for (const set of fixtureSets()) {
    const star = file.indexOf("*");
    const [pre, post] = star < 0 ? [file, ""] : [file.slice(0, star), file.slice(star + 1)];
    const names =
      star < 0
        ? [file].filter((f) => existsSync(join(set.dir, f)))
        : readdirSync(set.dir)
            .filter(
              (f) => f.startsWith(pre) && f.endsWith(post) && f.length >= pre.length + post.length,
            )
            .sort();
    for (const n of names) out.push({ set, path: join(set.dir, n) });
  }
  return out;
}

/**
 * describe.each over the fixture sets holding `file`; when none does (a fixture root with only
 * other kinds, or none at all) the kind is reported as skipped instead of failing the file with
 * "No test suite found". test/fixtures-known.parity.test.ts is the one test that fails when the
 * root holds no known fixture at all.
 */
export function describeEachFixture(
  file: string,
  title: string,
  body: (f: { set: FixtureSet; path: string }) => void,
): void {
  const found = setsWith(file, { optional: true });
  // A fixture root may hold any subset of the fixture kinds: an absent kind is a skip that names
  // the root, never a silent pass; test/fixtures-known.parity.test.ts fails a root with none at all.
  if (found.length === 0) {
    describe(title.replace(/\$[\w.]+/g, "…"), () => {
      it.skip(`no ${file} under ${fixturesRoot()}: skipped`, () => {});
    });
    return;
  }
  describe.each(found)(title, body);
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/**
 * max |got - want| relative to max |want| (the fixtures README's measure); throws with the key,
 * both shapes and the worst element when it exceeds `tol`.
 */
export function expectClose(key: string, got: HostTensor, want: HostTensor, tol = 1e-4): number {
  if (!shapesEqual(got.shape, want.shape)) {
    throw new Error(`${key}: shape ${fmtShape(got.shape)}, expected ${fmtShape(want.shape)}`);
  }
  const g = toNumbers(got);
  const w = toNumbers(want);
  let scale = 0;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  g.forEach((v, i) => {
    const e = Math.abs(v - w[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  });
  const rel = worst / Math.max(scale, 1e-30);
  if (!(rel <= tol)) {
    throw new Error(
      `${key}: max error ${worst.toExponential(3)} at element ${at} (got ${g[at]}, expected ${w[at]}), ${rel.toExponential(3)} of max |expected| ${scale.toExponential(3)} > ${tol}`,
    );
  }
  return rel;
}
