// Every fixture set under $DINOV2_FIXTURES holds something the parity tests know (the fixtures
// README: "fail on a set that holds nothing the tests know").
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixtureSets, KNOWN_FIXTURES } from "./helpers/fixtures.js";

describe("fixture sets", () => {
  const sets = fixtureSets();
  it("there is at least one", () => {
    expect(sets.length).toBeGreaterThan(0);
  });
  it.each(sets)("$name holds at least one known fixture", ({ dir }) => {
    const files = readdirSync(dir);
    expect(
      files.filter((f) => KNOWN_FIXTURES.some((k) => f.startsWith(k))),
      `files in ${dir}: ${files.join(", ")}`,
    ).not.toEqual([]);
  });
});
