// ConfigError: bad config or command-line input, carrying the dotted key path, and the conversion
// of zod issues into it (one message per problem, the first problem's path on the error).
import type { z } from "zod";

export interface ConfigErrorContext {
  /** Where the value came from when it is not the merged config, e.g. "--set optim.lr=1". */
  readonly source?: string;
  readonly hint?: string;
}

/** Invalid configuration: an unknown key, a bad value, a bad file. `path` is dotted ("optim.base_lr"). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly path: string;
  readonly hint: string | undefined;
  readonly source: string | undefined;

  constructor(path: string, what: string, ctx: ConfigErrorContext = {}) {
    let msg = `config: ${what}`;
    if (ctx.source) msg += `\n  from ${ctx.source}`;
    if (ctx.hint) msg += `\n  hint: ${ctx.hint}`;
    super(msg);
    this.path = path;
    this.hint = ctx.hint;
    this.source = ctx.source;
  }
}

/** Turns the issues of a failed parse into one ConfigError; `input` is what was parsed. */
export function configErrorFromIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  knownKeys: (path: readonly string[]) => readonly string[],
): ConfigError {
  const first = issues[0];
  if (first === undefined) return new ConfigError("", "invalid config (no issue reported)");
  const lines = issues.map((issue) => describeIssue(issue, input, knownKeys));
  const head = lines[0]!;
  const more = lines.slice(1).map((l) => `\n  also: ${l.what}`);
  return new ConfigError(
    head.path,
    head.what + more.join(""),
    head.hint ? { hint: head.hint } : {},
  );
}

/** Formats a value for a message: strings quoted, everything else as JSON. */
export function fmtValue(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The first line of a caught error's message, for wrapping it into a ConfigError. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}

/** The closest candidate within edit distance 3, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 4;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

interface Described {
  readonly path: string;
  readonly what: string;
  readonly hint?: string;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  knownKeys: (path: readonly string[]) => readonly string[],
): Described {
  const segs = issue.path.map(String);
  const path = segs.join(".");
  const got = fmtValue(valueAt(input, segs));
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0]!;
      const keyPath = [...segs, key].join(".");
      const siblings = knownKeys(segs);
      const near = closest(key, siblings);
      const where = path === "" ? "the top level" : `"${path}"`;
      return {
        path: keyPath,
        what: `unknown key "${keyPath}"; expected a key of ${where}: ${siblings.join(", ")}`,
        ...(near ? { hint: `did you mean "${[...segs, near].join(".")}"?` } : {}),
      };
    }
    case "invalid_value":
      return {
        path,
        what: `invalid value at "${path}"; got ${got}, expected one of ${issue.values.map(fmtValue).join(", ")}`,
      };
    case "invalid_type": {
      const expected = issue.expected === "int" ? "an integer" : issue.expected;
      return { path, what: `invalid value at "${path}"; got ${got}, expected ${expected}` };
    }
    case "too_small":
    case "too_big": {
      const op =
        issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const what =
        issue.origin === "array" ? `a list with ${op} ${bound} items` : `a value ${op} ${bound}`;
      return { path, what: `invalid value at "${path}"; got ${got}, expected ${what}` };
    }
    default:
      return { path, what: `invalid value at "${path}"; got ${got}: ${issue.message}` };
  }
}

function valueAt(input: unknown, segs: readonly string[]): unknown {
  let cur = input;
  for (const s of segs) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
