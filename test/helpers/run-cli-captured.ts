// In-process run of `dinov2 <args>`, with stdout and stderr captured as the CLI prints them
// (errors formatted by runCli), for end-to-end tests that read what a user would see.
import { runCli } from "../../src/cli/run-cli.js";

export interface CliOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCliCaptured(args: readonly string[]): Promise<CliOutput> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    [...args],
    (t) => {
      stdout += `${t}\n`;
    },
    (t) => {
      stderr += `${t}\n`;
    },
  );
  return { code, stdout, stderr };
}
