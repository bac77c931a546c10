// Flag strings -> typed values, validated once at the edge; errors name the flag and the value.
import { ConfigError } from "../config/errors.js";
import { UsageError } from "./usage-error.js";

/** A string flag that must be given. */
export function requiredFlag(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === "") {
    throw new UsageError(`--${flag} is required`, {
      flag: `--${flag}`,
      hint: `run \`dinov2 ${command} --help\``,
    });
  }
  return value;
}

/** A ConfigError about one flag's value becomes a UsageError naming the flag. */
export function asUsage<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new UsageError(`${flag}: ${e.message.replace(/^config: /, "").split("\n")[0]}`, {
      flag,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }
}

/** An integer flag within [min, max]. */
export function intFlag(
  value: string,
  flag: string,
  range: { min?: number; max?: number } = {},
): number {
  const n = Number(value);
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    const bounds = range.max === undefined ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UsageError(`--${flag}: got "${value}", expected an integer ${bounds}`, {
      flag: `--${flag}`,
    });
  }
  return n;
}

/** A positive number flag (or non-negative with `allowZero`). */
export function positiveFlag(value: string, flag: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw new UsageError(
      `--${flag}: got "${value}", expected a ${allowZero ? "non-negative" : "positive"} number`,
      { flag: `--${flag}` },
    );
  }
  return n;
}

/** A flag that must be one of `choices`. */
export function choiceFlag<const C extends string>(
  value: string,
  flag: string,
  choices: readonly C[],
): C {
  if ((choices as readonly string[]).includes(value)) return value as C;
  throw new UsageError(`--${flag}: got "${value}", expected one of ${choices.join(", ")}`, {
    flag: `--${flag}`,
  });
}
