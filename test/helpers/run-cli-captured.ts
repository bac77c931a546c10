// In-process run of `dinov2 <args>`, with stdout and stderr captured as the CLI prints them
// (errors formatted by runCli), for end-to-end tests that read what a user would see.
import { runCli } from "../../src/cli/run-cli.js";

export interface CliOutput {
  readonly code: number;
  /** Each printed line, in order. */
  readonly outLines: readonly string[];
  readonly errLines: readonly string[];
  /** The streams as a terminal shows them (every line ends in a newline). */
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCliCaptured(args: readonly string[]): Promise<CliOutput> {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const code = await runCli(
    [...args],
    (t) => outLines.push(t),
    (t) => errLines.push(t),
  );
  const stream = (lines: readonly string[]) => lines.map((l) => `${l}\n`).join("");
  return { code, outLines, errLines, stdout: stream(outLines), stderr: stream(errLines) };
}
