// xoshiro128** (Blackman & Vigna), the one 32-bit generator behind both seeded streams: weight
// initialisation (nn/init.ts) and the data pipeline (data/rng.ts). Math.imul keeps it in 32-bit
// integers (BigInt arithmetic made ViT-B initialisation take tens of seconds).

/** The next-value function over a 4-word state (mutated in place); the state must not be 0. */
export function xoshiro128ss(s: Uint32Array): () => number {
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1; // the one forbidden state
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
