// The cluster examples stay in step with the CLI: every `dinov2 curate` flag they use exists, the
// Kubernetes Job is Indexed (JOB_COMPLETION_INDEX), and the SLURM arrays are numbered from 0.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CURATE_FLAGS, STAGE_FLAGS } from "../../src/cli/curate-flags.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function checkFlags(stage: string, args: readonly string[]): void {
  expect(Object.keys(STAGE_FLAGS)).toContain(stage);
  for (const a of args.filter((x) => x.startsWith("--"))) {
    const name = a.slice(2).split("=")[0]!;
    expect(Object.keys(CURATE_FLAGS), `--${name} in curate ${stage}`).toContain(name);
    expect([...STAGE_FLAGS[stage]!.flags, "db"], `--${name} applies to curate ${stage}`).toContain(
      name,
    );
  }
}

describe("examples/", () => {
  it("the Kubernetes Indexed Job runs curate stages with flags the CLI takes", () => {
    const docs = parseAllDocuments(
      readFileSync(`${root}/examples/curate-k8s-indexed-job.yaml`, "utf8"),
    ).map((d) => d.toJS());
    expect(docs[0].spec.completionMode).toBe("Indexed");
    const indexed = docs
      .filter((d) => d.spec.completionMode === "Indexed")
      .map((d) => d.spec.template.spec.containers[0].command[2]);
    expect(indexed).toEqual(["embed", "cluster", "retrieve"]);
    for (const d of docs) {
      const c = d.spec.template.spec.containers[0];
      const argv = [...c.command, ...(c.args ?? [])];
      expect(argv.slice(0, 2)).toEqual(["dinov2", "curate"]);
      checkFlags(argv[2], argv.slice(3));
    }
  });

  it("the SLURM script's commands use flags the CLI takes, arrays from 0", () => {
    const text = readFileSync(`${root}/examples/curate-slurm.sh`, "utf8");
    const commands = [...text.matchAll(/--wrap "dinov2 curate (\w+)([^"]*)"/g)];
    expect(commands.length).toBe(13);
    const stages = commands.map((c) => c[1]);
    for (const st of ["embed", "dedup", "cluster", "retrieve", "export"])
      expect(
        commands.some((c) => c[1] === st && / --shard \$N/.test(c[2]!)),
        st,
      ).toBe(true);
    expect(stages.at(-1)).toBe("report");
    for (const [, stage, rest] of commands) checkFlags(stage!, rest!.trim().split(/\s+/));
    expect([...text.matchAll(/--array=(\d+)-/g)].map((m) => m[1])).toEqual([
      "0",
      "0",
      "0",
      "0",
      "0",
    ]);
  });
});
