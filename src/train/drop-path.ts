// Efficient stochastic depth: per-block rates, the static subset sizes, and the kept rows drawn
// on the host each step (randomness enters the graph as data). Port of the drop_path_rate
// handling in vision_transformer.py and drop_add_residual_stochastic_depth_list in block.py.
import { constant, hostTensor, input, type Tensor } from "../core/index.js";
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
  /** Set for "mask" inputs: each sample is kept with this probability (timm DropPath). */
  readonly keepProb?: number;
}

export interface DropPlanOptions {
  /** "efficient": the branch runs on kept samples only (official); "mask": on all, then masked. */
  readonly mode?: "efficient" | "mask";
  /** Prefix of the input names (distinct plans in one graph). */
  readonly prefix?: string;
  /** Creates the graph inputs (default `input`; the train step declares them in its signature). */
  readonly declare?: (name: string, shape: readonly number[], dtype?: "int64") => Tensor;
}

/** Builds the drop-path graph inputs for the student's token groups. */
export function dropPlan(
  groups: readonly TokenGroup[],
  rates: readonly number[],
  o: DropPlanOptions = {},
): DropPlan {
  const inputs: DropInput[] = [];
  const prefix = o.prefix ?? "drop";
  const declare = o.declare ?? ((name, shape, dtype) => input(name, shape, dtype));
  const blocks = rates.map((rate, i): BlockDrop => {
    if (rate <= 0) return {};
    if (o.mode === "mask") {
      const rows = groups.reduce((n, g) => n + g.batch * g.tokens, 0);
      const maskBranch = (name: string) => {
        inputs.push({ name, groups, kept: groups.map(() => 0), keepProb: 1 - rate });
        return { rowScale: declare(name, [rows, 1]) };
      };
      return {
        attn: maskBranch(`${prefix}.blocks.${i}.attn`),
        ffn: maskBranch(`${prefix}.blocks.${i}.ffn`),
      };
    }
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
        rows: declare(name, [rows], "int64"),
        groups: groups.map((g, j) => ({ batch: kept[j]!, tokens: g.tokens })),
        scale: constant(hostTensor("float32", [rows, 1], scale)),
      };
    };
    return { attn: branch(`${prefix}.blocks.${i}.attn`), ffn: branch(`${prefix}.blocks.${i}.ffn`) };
  });
  return { blocks, inputs };
}

/** The per-row factors of a "mask" input: 1/keepProb for kept samples, 0 for dropped ones. */
export function sampleDropMask(d: DropInput, uniform: () => number): Float32Array {
  const p = d.keepProb ?? 1;
  const out = new Float32Array(d.groups.reduce((n, g) => n + g.batch * g.tokens, 0));
  let offset = 0;
  for (const g of d.groups) {
    for (let b = 0; b < g.batch; b++) {
      if (uniform() < p) out.fill(1 / p, offset + b * g.tokens, offset + (b + 1) * g.tokens);
    }
    offset += g.batch * g.tokens;
  }
  return out;
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
