// The one parity test that fails on an empty fixture root: every fixture set under
// $DINOV2_FIXTURES holds something the parity tests know (the fixtures README: "fail on a set that
// holds nothing the tests know"). Each other parity file skips its kind of fixture when absent.
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixtureSets, fixturesRoot, KNOWN_FIXTURES } from "./helpers/fixtures.js";

describe("fixture sets", () => {
  const root = fixturesRoot();
  const sets = existsSync(root) ? fixtureSets() : [];
  it(`the fixture root ${root} holds at least one set`, () => {
    expect(existsSync(root), `fixture root ${root} does not exist (set DINOV2_FIXTURES)`).toBe(
      true,
    );
    expect(sets.length, `no fixture set under ${root}`).toBeGreaterThan(0);
  });
  it.each(sets)("$name holds at least one known fixture", ({ dir }) => {
    const files = readdirSync(dir);
    expect(
      files.filter((f) => KNOWN_FIXTURES.some((k) => f.startsWith(k))),
      `files in ${dir}: ${files.join(", ")}`,
    ).not.toEqual([]);
  });
});
