// A CLI subcommand: its flags, its --help text and its run function, in one definition.
// Flags are parsed with node:util parseArgs; values arrive typed by the flag declarations.
import { parseArgs } from "node:util";
import { InternalError } from "../core/index.js";
import { UsageError } from "./usage-error.js";

export type Flag =
  | { readonly type: "boolean"; readonly description: string }
  | {
      readonly type: "string";
      readonly description: string;
      /** Shown in --help, e.g. "N" in `--threads N`. */
      readonly valueName?: string;
      readonly default?: string;
    }
  | {
      readonly type: "string";
      /** The flag may be given many times; its value is the list (e.g. `--set a=1 --set b=2`). */
      readonly multiple: true;
      readonly description: string;
      readonly valueName?: string;
    };

export type Flags = Readonly<Record<string, Flag>>;

/** The parsed values of `F`: booleans always set, strings set when they have a default. */
export type FlagValues<F extends Flags> = {
  readonly [K in keyof F]: F[K] extends { type: "boolean" }
    ? boolean
    : F[K] extends { multiple: true }
      ? readonly string[]
      : F[K] extends { default: string }
        ? string
        : string | undefined;
};

/** What every command gets besides its flags. */
export interface CommandContext {
  readonly positionals: readonly string[];
  /** --debug: print stacks, keep onnxruntime's own log. */
  readonly isDebug: boolean;
  readonly out: (text: string) => void;
}

/** Exit code, or nothing for 0. */
export type CommandResult = number | undefined;

export interface CommandDef<F extends Flags> {
  /** kebab-case, as typed on the command line. */
  readonly name: string;
  /** One line for `dinov2 --help`. */
  readonly summary: string;
  /** Paragraphs shown by `dinov2 <name> --help` after the usage line. */
  readonly description?: string;
  /** Positional arguments as shown in the usage line, e.g. "<image>". */
  readonly positionals?: string;
  readonly flags: F;
  readonly examples?: readonly string[];
  readonly run: (values: FlagValues<F>, ctx: CommandContext) => Promise<CommandResult>;
}

/** A command with its flag types erased, as the dispatch table holds it. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  help(): string;
  /** Parses `argv` (the words after the command name) and runs the command. */
  invoke(argv: readonly string[], out: (text: string) => void): Promise<CommandResult>;
}

/** Flags every command accepts; declared once here, so commands cannot shadow them. */
export const COMMON_FLAGS = {
  help: { type: "boolean", description: "show this help" },
  debug: { type: "boolean", description: "print stack traces and onnxruntime's own log" },
} as const satisfies Flags;

/** Builds a Command from its definition; the definition's flags type its run function. */
export function defineCommand<F extends Flags>(def: CommandDef<F>): Command {
  for (const key of Object.keys(def.flags)) {
    if (key in COMMON_FLAGS)
      throw new InternalError(`command ${def.name}: flag --${key} is reserved`);
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(key)) {
      throw new InternalError(`command ${def.name}: flag "${key}" is not kebab-case`);
    }
  }
  return {
    name: def.name,
    summary: def.summary,
    help: () => renderHelp(def),
    invoke: async (argv, out) => {
      const all: Flags = { ...COMMON_FLAGS, ...def.flags };
      const parsed = parseFlags(def.name, all, argv, def.positionals !== undefined);
      if (parsed.values.help === true) {
        out(renderHelp(def));
        return 0;
      }
      const ctx: CommandContext = {
        positionals: parsed.positionals,
        isDebug: parsed.values.debug === true,
        out,
      };
      return def.run(parsed.values as FlagValues<F>, ctx);
    },
  };
}

function parseFlags(
  command: string,
  flags: Flags,
  argv: readonly string[],
  allowPositionals: boolean,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(flags).map(([key, f]) => [
      key,
      "multiple" in f
        ? { type: f.type, multiple: true, default: [] }
        : f.type === "string" && f.default !== undefined
          ? { type: f.type, default: f.default }
          : { type: f.type },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    // parseArgs errors are user input errors; keep the first sentence, which names the flag.
    const msg = (e as Error).message.split(". ")[0]!.replace(/\.$/, "");
    throw new UsageError(msg, { hint: `run \`dinov2 ${command} --help\`` });
  }
}

function renderHelp<F extends Flags>(def: CommandDef<F>): string {
  const all: Flags = { ...def.flags, ...COMMON_FLAGS };
  const pos = def.positionals ? ` ${def.positionals}` : "";
  const lines = [`Usage: dinov2 ${def.name} [flags]${pos}`, "", def.summary];
  if (def.description) lines.push("", def.description);
  lines.push("", "Flags:");
  const left = Object.entries(all).map(([key, f]) =>
    f.type === "string" ? `--${key} ${f.valueName ?? "VALUE"}` : `--${key}`,
  );
  const width = Math.max(...left.map((l) => l.length)) + 2;
  Object.values(all).forEach((f, i) => {
    const dflt = "default" in f && f.default !== undefined ? ` (default: ${f.default})` : "";
    lines.push(`  ${left[i]!.padEnd(width)}${f.description}${dflt}`);
  });
  if (def.examples?.length) {
    lines.push("", "Examples:", ...def.examples.map((e) => `  ${e}`));
  }
  return lines.join("\n");
}
