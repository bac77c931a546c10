// The `dinov2` command line: global flags, dispatch to a subcommand, errors as one message.
import { closest } from "../config/errors.js";
import type { Command, CommandResult } from "./command.js";
import { COMMANDS } from "./registry.js";
import { packageVersion } from "./run-info.js";
import { UsageError } from "./usage-error.js";

const GLOBAL_FLAGS = new Set(["--help", "--debug", "--version"]);

/** Runs `dinov2 <argv...>`; returns the exit code (never throws). */
export async function runCli(
  argv: readonly string[],
  out = writeLine,
  err = writeError,
): Promise<number> {
  const isDebug = argv.includes("--debug");
  let command: Command | undefined;
  try {
    const at = argv.findIndex((a) => !a.startsWith("-"));
    const globals = at < 0 ? argv : argv.slice(0, at);
    const bad = globals.find((a) => !GLOBAL_FLAGS.has(a));
    if (bad)
      throw new UsageError(`unknown flag ${bad}`, { flag: bad, hint: "run `dinov2 --help`" });
    if (at < 0) {
      if (globals.includes("--version")) out(packageVersion());
      else out(globalHelp());
      return globals.length === 0 || globals.includes("--help") || globals.includes("--version")
        ? 0
        : 1;
    }
    const name = argv[at]!;
    const rest = argv.slice(at + 1);
    if (name === "help") {
      out(rest[0] ? findCommand(rest[0]).help() : globalHelp());
      return 0;
    }
    command = findCommand(name);
    const code: CommandResult = await command.invoke(
      globals.includes("--debug") ? [...rest, "--debug"] : rest,
      out,
    );
    return code ?? 0;
  } catch (e) {
    err(formatError(e, command, isDebug));
    return 1;
  }
}

function findCommand(name: string): Command {
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd) return cmd;
  const names = COMMANDS.map((c) => c.name);
  // Also match the first word of a command, so "inspct" suggests inspect-graph.
  const near =
    closest(name, names) ?? names.find((n) => closest(name, [n.split("-")[0]!]) !== undefined);
  throw new UsageError(`unknown command "${name}"; expected one of ${names.join(", ")}`, {
    flag: "command",
    hint: near ? `did you mean \`dinov2 ${near}\`?` : "run `dinov2 --help`",
  });
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "Usage: dinov2 [--debug] <command> [flags]",
    "",
    "DINOv2 in TypeScript: traced graphs, our own autodiff, run by ONNX Runtime.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Global flags:",
    "  --help     show this help (also: dinov2 <command> --help, dinov2 help <command>)",
    "  --debug    print stack traces and onnxruntime's own log",
    "  --version  print the dinov2-ts version",
  ].join("\n");
}

function formatError(e: unknown, command: Command | undefined, isDebug: boolean): string {
  const prefix = command ? `dinov2 ${command.name}` : "dinov2";
  if (!(e instanceof Error)) return `${prefix}: ${String(e)}`;
  if (isDebug && e.stack) return `${prefix}: ${e.stack}`;
  const kind = e instanceof UsageError || e.name === "Error" ? "" : `${e.name}: `;
  return `${prefix}: ${kind}${e.message}`;
}

function writeLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

function writeError(text: string): void {
  process.stderr.write(`${text}\n`);
}
