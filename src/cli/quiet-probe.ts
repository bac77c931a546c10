// Probing execution providers without their native stderr noise: the probe runs in a child
// process (src/cli/probe-main) whose stderr is captured and returned, not printed.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { probeProviders } from "../runtime/index.js";

export type ProviderProbe = Awaited<ReturnType<typeof probeProviders>>[number];

export interface QuietProbe {
  readonly probes: readonly ProviderProbe[];
  /** What the native libraries wrote to stderr while probing, one entry per non-empty line. */
  readonly stderr: readonly string[];
}

/** probeProviders() in a child process; falls back to probing in-process if the child fails. */
export async function quietProbe(): Promise<QuietProbe> {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const entry = fileURLToPath(new URL(`./probe-main${ext}`, import.meta.url));
  // execArgv carries tsx's loader when we run from source.
  const child = spawn(process.execPath, [...process.execArgv, entry], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const code = await new Promise<number | null>((resolve) => {
    child.on("close", resolve);
    child.on("error", () => resolve(null));
  });
  const stderr = Buffer.concat(err)
    .toString("utf8")
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
  const lastLine = Buffer.concat(out).toString("utf8").trim().split("\n").at(-1) ?? "";
  if (code === 0) {
    try {
      return { probes: JSON.parse(lastLine) as ProviderProbe[], stderr };
    } catch {
      // fall through to the in-process probe
    }
  }
  return { probes: await probeProviders(), stderr };
}
