// The benchmark harness' parts: what a bench file exports, and timing with a burn-in stage, a
// fixed iteration count, median and minimum, and baseline/candidate runs interleaved.

/** Flat figures: the keys a bench promises (snake_case), plus an optional `details` object. */
export type Figures = Readonly<Record<string, number | string | object>>;

export interface BenchContext {
  /** Progress lines (to stderr, so stdout ends with the one JSON line). */
  readonly log: (line: string) => void;
}

/** What `bench/<name>.bench.ts` exports as `bench`. */
export interface Bench {
  /** The execution provider the figures are for. */
  readonly provider: string;
  /** One sentence: the question this bench answers. */
  readonly question: string;
  readonly run: (ctx: BenchContext) => Promise<Figures>;
}

export interface TimingOptions {
  /** Untimed runs first (JIT, allocator and thread-pool warm-up). */
  readonly burnIn: number;
  /** Timed runs. */
  readonly iters: number;
}

export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly samplesMs: readonly number[];
}

/** Times `fn` after a burn-in; the result of each call is kept so nothing is optimised away. */
export async function timeIt(
  fn: () => Promise<unknown> | unknown,
  o: TimingOptions,
): Promise<Timing> {
  const t = await interleave({ fn }, o);
  return t.fn!;
}

/**
 * Times several candidates in rounds: every round runs each once, in an order that alternates
 * (ABC, CBA, ...), so drift in machine load falls on all of them alike.
 */
export async function interleave(
  fns: Readonly<Record<string, () => Promise<unknown> | unknown>>,
  o: TimingOptions,
): Promise<Record<string, Timing>> {
  const names = Object.keys(fns);
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  const sink: unknown[] = []; // keeps each result alive: consumed, not optimised away
  for (let round = 0; round < o.burnIn + o.iters; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const t0 = performance.now();
      sink[0] = await fns[name]!();
      const ms = performance.now() - t0;
      if (round >= o.burnIn) samples.get(name)!.push(ms);
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarise(samples.get(n)!)]));
}

export function summarise(samplesMs: readonly number[]): Timing {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    medianMs: round3(medianMs),
    minMs: round3(sorted[0]!),
    samplesMs: samplesMs.map(round3),
  };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
