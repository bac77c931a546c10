// Shared by the curation tests: a tiny random backbone and a planted pool embedded into a store.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbedder, type Embedder } from "../inference/embedder.js";
import { listImageInputs } from "../inference/image-inputs.js";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS } from "../models/presets.js";
import { embedPart, mergeEmbedParts } from "./embed-stage.js";
import type { PoolMeta } from "./pool.js";
import { type Shard, SINGLE } from "./shard.js";
import { CurateStore } from "./store.js";
import {
  type SyntheticPool,
  type SyntheticPoolOptions,
  writeSyntheticPool,
} from "./synthetic-pool.js";

export const TINY = { ...VIT_DEFAULTS, imgSize: 28, embedDim: 32, numHeads: 2, depth: 1 };
export const TINY_META: PoolMeta = {
  model: "tiny test ViT (random, seed 0)",
  embeddingDim: 32,
  imageSize: 28,
};

export function tinyEmbedder(batchSize = 16, seed = 0): Promise<Embedder> {
  return createEmbedder({
    backbone: createBackbone(TINY, seed),
    imageSize: 28,
    batchSize,
    threads: 1,
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `curate-${prefix}-`));
}

export interface EmbeddedPool {
  readonly dir: string;
  readonly synthetic: SyntheticPool;
  readonly store: CurateStore;
  readonly files: readonly string[];
}

/** Writes a planted pool and embeds it (single process, or the given shards one after another). */
export async function embeddedPool(
  opts: Omit<SyntheticPoolOptions, "dir">,
  shards: readonly Shard[] = [SINGLE],
): Promise<EmbeddedPool> {
  const dir = await tempDir("pool");
  const synthetic = await writeSyntheticPool({ dir, ...opts });
  const store = await CurateStore.open(join(dir, "db"));
  const { files } = await listImageInputs([synthetic.poolDir]);
  const embedder = await tinyEmbedder();
  for (const shard of shards) await embedPart({ store, files, embedder, meta: TINY_META, shard });
  await embedder.release();
  await mergeEmbedParts(store);
  return { dir, synthetic, store, files };
}
