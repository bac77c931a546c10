// MatMul throughput of a provider: a chain of square fp32 matmuls in one graph, timed through our
// runtime (feeds and fetches included), best of a few runs after a warm-up.
import { hostTensor, input, matmul, type Tensor } from "../core/index.js";
import type { Runtime } from "../runtime/index.js";

export interface MatmulRateOptions {
  /** Side of the square matrices. */
  readonly n: number;
  /** Matmuls per run, chained so no result is dead code. */
  readonly chain: number;
  /** Timed runs after one warm-up run. */
  readonly runs: number;
}

export interface MatmulRate {
  readonly gflops: number;
  /** Fastest run, ms. */
  readonly bestMs: number;
  readonly n: number;
  readonly chain: number;
}

/** GFLOP/s of `chain` chained n×n×n matmuls (2·n³ FLOPs each), from the fastest run. */
export async function measureMatmulRate(rt: Runtime, o: MatmulRateOptions): Promise<MatmulRate> {
  const x = input("x", [o.n, o.n]);
  const w = input("w", [o.n, o.n]);
  let y: Tensor = x;
  for (let i = 0; i < o.chain; i++) y = matmul(y, w);
  const exe = await rt.compile({ y });
  // Entries of size 1/sqrt(n) keep the chain's values near 1 (no overflow to inf).
  const scale = 1 / Math.sqrt(o.n);
  const data = Float32Array.from(
    { length: o.n * o.n },
    (_, i) => (((i * 7919) % 13) - 6) * scale * 0.3,
  );
  const feeds = {
    x: hostTensor("float32", [o.n, o.n], data),
    w: hostTensor("float32", [o.n, o.n], data),
  };
  await exe.run(feeds);
  let bestMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < o.runs; r++) {
    const t0 = performance.now();
    await exe.run(feeds);
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  const flops = 2 * o.n ** 3 * o.chain;
  return { gflops: flops / (bestMs * 1e6), bestMs, n: o.n, chain: o.chain };
}
