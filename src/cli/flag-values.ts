// Flag strings -> typed values, validated once at the edge; errors name the flag and the value.
import { UsageError } from "./usage-error.js";

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
