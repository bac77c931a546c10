// Values of `dinov2 curate` flags that need more than a number (cosines, k-means levels) and the
// shard count a --merge combines (from --shard N, or the parts found in the store).
import { CurateError } from "../curate/errors.js";
import { UsageError } from "./usage-error.js";

export function req(value: string | undefined, flag: string, stage: string): string {
  if (value === undefined || value === "")
    throw new UsageError(`curate ${stage}: --${flag} is required`, { flag: `--${flag}` });
  return value;
}

export function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < -1 || n > 1)
    throw new UsageError(`--${flag}: got "${value}", expected a cosine in [-1, 1]`, {
      flag: `--${flag}`,
    });
  return n;
}

export function parseLevels(text: string): number[] {
  const ks = text.split(",").map((s) => Number(s.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1))
    throw new UsageError(`--levels: got "${text}", expected positive integers like 1000,100`, {
      flag: "--levels",
    });
  return ks;
}

/** Two levels: about 10 images per cluster, then about 10 clusters per parent. */
export function defaultLevels(n: number): number[] {
  const k0 = Math.max(2, Math.round(n / 10));
  const k1 = Math.max(1, Math.round(k0 / 10));
  return k1 < k0 ? [k0, k1] : [k0];
}

/**
 * The shard count of a --merge: N from --shard N (or I/N), else that of the parts named
 * `<prefix><I>of<N>` in the store, which must agree on one N.
 */
export function mergedShardCount(
  flag: string | undefined,
  names: readonly string[],
  prefix: string,
  stage: string,
): number {
  if (flag) return Number(flag.split("/").pop());
  const re = new RegExp(`^${prefix}\\d+of(\\d+)$`);
  const counts = new Set(
    names
      .map((n) => re.exec(n)?.[1])
      .filter((c) => c !== undefined)
      .map(Number),
  );
  if (counts.size !== 1)
    throw new CurateError(
      `${stage} --merge`,
      counts.size === 0
        ? `no ${stage} parts found`
        : `parts of several shard counts (${[...counts].join(", ")}); give --shard N`,
      `run \`dinov2 curate ${stage} --shard I/N\` on every worker first`,
    );
  return [...counts][0]!;
}
