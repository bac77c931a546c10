// What every `dinov2 curate` stage shares: the parsed flags, the open store, the GEMM sessions
// (one per width, created on first use), the embedder and the shard a process owns. Each stage's
// CLI wiring is its own file beside this one; the work itself lives in src/curate/<stage>-stage.ts.
import { availableParallelism } from "node:os";
import { CurateGemm } from "../../curate/gemm.js";
import type { PoolMeta } from "../../curate/pool.js";
import { parseShard, type Shard, SINGLE } from "../../curate/shard.js";
import type { CurateStore } from "../../curate/store.js";
import { createEmbedder, type Embedder } from "../../inference/embedder.js";
import { resolveModel } from "../../inference/model-spec.js";
import { checkImageSize } from "../../inference/preprocess.js";
import type { CommandContext, FlagValues } from "../command.js";
import type { CURATE_FLAGS } from "../curate-flags.js";
import { asUsage, intFlag } from "../flag-values.js";
import { UsageError } from "../usage-error.js";

export type CurateFlags = FlagValues<typeof CURATE_FLAGS>;

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The pool's descriptor record, for comparing embeddings only. */
export function descriptorMeta(m: PoolMeta): Pick<PoolMeta, "descriptor" | "descriptorDim"> {
  return m.descriptor ? { descriptor: m.descriptor, descriptorDim: m.descriptorDim! } : {};
}

export class CurateRun {
  private gemmCache = new Map<number, Promise<CurateGemm>>();

  constructor(
    readonly store: CurateStore,
    readonly v: CurateFlags,
    readonly ctx: CommandContext,
    /** Positional inputs after the stage name (more image folders for `embed`). */
    readonly rest: readonly string[],
  ) {}

  /** --merge reads --shard only as the part count; a worker parses it as I/N. */
  shard(): Shard {
    return this.v.merge ? SINGLE : parseShard(this.v.shard, process.env);
  }

  threads(): number {
    return this.v.threads === undefined
      ? availableParallelism()
      : intFlag(this.v.threads, "threads", { min: 1 });
  }

  gemm(dim: number): Promise<CurateGemm> {
    let g = this.gemmCache.get(dim);
    if (!g) {
      g = CurateGemm.create(dim, { threads: this.threads() });
      this.gemmCache.set(dim, g);
    }
    return g;
  }

  async embedder(): Promise<{ embedder: Embedder; meta: PoolMeta }> {
    const imageSize = intFlag(this.v["image-size"], "image-size", { min: 1 });
    const { backbone, description } = asUsage("--model", () =>
      resolveModel(this.v.model, intFlag(this.v.seed, "seed", { min: 0 })),
    );
    asUsage("--image-size", () => checkImageSize(imageSize, backbone.options.patchSize));
    const embedder = await createEmbedder({
      backbone,
      imageSize,
      batchSize: intFlag(this.v["batch-size"], "batch-size", { min: 1 }),
      threads: this.threads(),
    });
    return { embedder, meta: { model: description, embeddingDim: embedder.dim, imageSize } };
  }

  /** Stages that run once: `--shard` with N > 1 is refused, saying why and what to run. */
  oneProcess(stage: string, why: string): void {
    if (parseShard(this.v.shard, process.env).count > 1)
      throw new UsageError(`curate ${stage} runs in one process: ${why}`, {
        flag: "--shard",
        hint: `run \`dinov2 curate ${stage}\` once (without --shard) after the sharded stages' --merge`,
      });
  }

  async release(): Promise<void> {
    for (const g of this.gemmCache.values()) await (await g).release();
  }
}
