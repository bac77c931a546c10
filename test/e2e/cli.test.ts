// The `dinov2` command end to end, from source in a child process (node --import tsx, as
// `npx tsx` runs it, without npm's start-up): help, doctor --json, inspect-graph, errors; and
// every registered command's --help, in process to keep the suite fast.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/registry.js";
import { runCli } from "../../src/cli/run-cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const NAMES = COMMANDS.map((c) => c.name);

function dinov2(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("dinov2 CLI", () => {
  it("--help lists every command and exits 0", () => {
    const r = dinov2("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: dinov2 \[--debug\] <command> \[flags\]/);
    for (const name of NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
  });

  it("each registered command's --help shows its usage and flags (in process)", async () => {
    for (const name of NAMES) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(
        [name, "--help"],
        (t) => out.push(t),
        (t) => err.push(t),
      );
      expect(code, err.join("\n")).toBe(0);
      expect(out.join("\n")).toMatch(new RegExp(`^Usage: dinov2 ${name} \\[flags\\]`));
      expect(out.join("\n")).toContain("--debug");
    }
  });

  it("doctor --json reports a working CPU provider that passes its self-test", () => {
    const r = dinov2("doctor", "--json", "--threads", "1");
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.ortThreads).toBe(1);
    expect(report.versions.dinov2Ts).toMatch(/^\d+\.\d+\.\d+/);
    const cpu = report.providers.find((p: { provider: string }) => p.provider === "cpu");
    expect(cpu.starts).toBe(true);
    expect(cpu.selfTest.ok).toBe(true);
    expect(cpu.selfTest.gradMaxErr).toBeLessThan(1e-3);
    expect(cpu.matmul.gflops).toBeGreaterThan(0);
    expect(report.providers.map((p: { provider: string }) => p.provider)).toEqual([
      "cpu",
      "webgpu",
      "cuda",
    ]);
  });

  it("inspect-graph --what block prints the block's SSA graph with node counts", () => {
    const r = dinov2("inspect-graph", "--what", "block");
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain("# vits14 block, batch 1, 224x224");
    expect(out).toContain("%0 = input {name=x} : f32[257,384]");
    expect(out).toMatch(/= matmul\(%\d+, %\d+\) : f32\[257,1152\] {3}# blocks\.0\.attn\.qkv$/m);
    expect(out).toMatch(/= softmax\(%\d+\) \{axis=3\} : f32\[1,6,257,257\] {3}# blocks\.0\.attn$/m);
    expect(out).toMatch(/^return y = %\d+$/m);
    expect(out).toMatch(/^\d+ nodes, \d+ distinct ops$/m);
    expect(out).toMatch(/^ {2}matmul +6$/m);
  });

  it("an unknown command fails with exit 1, a clear message and no stack", () => {
    const r = dinov2("inspect-grahp");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `dinov2: unknown command "inspect-grahp"; expected one of ${NAMES.join(", ")}`,
    );
    expect(r.stderr).toContain("hint: did you mean `dinov2 inspect-graph`?");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("a bad flag value fails with exit 1 naming the flag; --debug adds the stack", () => {
    const r = dinov2("inspect-graph", "--batch", "0");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'dinov2 inspect-graph: --batch: got "0", expected an integer >= 1',
    );
    const d = dinov2("inspect-graph", "--batch", "0", "--debug");
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^\s+at /m);
  });

  it("an unknown flag fails with exit 1", () => {
    const r = dinov2("doctor", "--frobnicate");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dinov2 doctor: Unknown option '--frobnicate'");
  });
});
