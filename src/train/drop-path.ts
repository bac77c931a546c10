// Efficient stochastic depth: per-block rates, the static subset sizes, and the kept rows drawn
// on the host each step (randomness enters the graph as data). Port of the drop_path_rate
// handling in vision_transformer.py and drop_add_residual_stochastic_depth_list in block.py.
import { constant, hostTensor, input } from "../core/index.js";
import type { BlockDrop, ResidualSubset } from "../nn/block.js";
import type { TokenGroup } from "../nn/tokens.js";

/** Per-block drop rates: uniform, or linspace(0, rate, depth) as official. */
export function dropPathRates(rate: number, depth: number, uniform: boolean): number[] {
  if (uniform || depth === 1) return Array<number>(depth).fill(uniform ? rate : 0);
  return Array.from({ length: depth }, (_, i) => (rate * i) / (depth - 1));
}

/** Samples of a group of `batch` that keep a branch: max(int(B * (1 - rate)), 1). */
export function keptSamples(batch: number, rate: number): number {
  return Math.max(Math.floor(batch * (1 - rate)), 1);
}

export interface DropPlan {
  /** One entry per block; blocks with rate 0 have no subsets. */
  readonly blocks: readonly BlockDrop[];
  /** Graph inputs to feed each step: name -> [group, kept] layout. */
  readonly inputs: readonly DropInput[];
}

export interface DropInput {
  readonly name: string;
  readonly groups: readonly TokenGroup[];
  readonly kept: readonly number[];
}

/** Builds the drop-path graph inputs for the student's token groups. */
export function dropPlan(groups: readonly TokenGroup[], rates: readonly number[]): DropPlan {
  const inputs: DropInput[] = [];
  const blocks = rates.map((rate, i): BlockDrop => {
    if (rate <= 0) return {};
    const kept = groups.map((g) => keptSamples(g.batch, rate));
    const branch = (name: string): ResidualSubset => {
      const rows = kept.reduce((n, k, j) => n + k * groups[j]!.tokens, 0);
      const scale = new Float32Array(rows);
      let o = 0;
      groups.forEach((g, j) => {
        scale.fill(g.batch / kept[j]!, o, o + kept[j]! * g.tokens);
        o += kept[j]! * g.tokens;
      });
      inputs.push({ name, groups, kept });
      return {
        rows: input(name, [rows], "int64"),
        groups: groups.map((g, j) => ({ batch: kept[j]!, tokens: g.tokens })),
        scale: constant(hostTensor("float32", [rows, 1], scale)),
      };
    };
    return { attn: branch(`drop.blocks.${i}.attn`), ffn: branch(`drop.blocks.${i}.ffn`) };
  });
  return { blocks, inputs };
}

/** Packed-row indices of a random subset of samples per group (`uniform` in [0, 1)). */
export function sampleDropRows(d: DropInput, uniform: () => number): BigInt64Array {
  const out: bigint[] = [];
  let offset = 0;
  d.groups.forEach((g, j) => {
    const perm = Array.from({ length: g.batch }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const r = Math.floor(uniform() * (i + 1));
      [perm[i], perm[r]] = [perm[r]!, perm[i]!];
    }
    for (const s of perm.slice(0, d.kept[j])) {
      for (let t = 0; t < g.tokens; t++) out.push(BigInt(offset + s * g.tokens + t));
    }
    offset += g.batch * g.tokens;
  });
  return BigInt64Array.from(out);
}
