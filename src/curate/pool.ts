// The pool tables: their columns, the metadata that ties a pool to the model that embedded it,
// and reading a whole pool back as arrays.
import { CurateError } from "./errors.js";
import type { PoolRow, Reject } from "./featurize.js";
import { PHASH_DIM } from "./phash.js";
import { type Columns, type CurateStore, column, type Row, vectors } from "./store.js";

export const POOL = "pool";
export const REJECTS = "rejects";
export const EXACT_DUPLICATES = "exact_duplicates";

export interface PoolMeta {
  /** The embedding model, as resolveModel describes it. */
  readonly model: string;
  readonly embeddingDim: number;
  readonly imageSize: number;
  /** The --descriptor model's id (onnx-descriptor.ts) and width, when the pool has that column. */
  readonly descriptor?: string;
  readonly descriptorDim?: number;
}

export function poolColumns(meta: PoolMeta, withId: boolean): Columns {
  return {
    ...(withId ? { id: "int32" as const } : {}),
    path: "utf8",
    hash: "utf8",
    width: "int32",
    height: "int32",
    embedding: { vector: meta.embeddingDim },
    phash: { vector: PHASH_DIM },
    ...(meta.descriptorDim ? { descriptor: { vector: meta.descriptorDim } } : {}),
  };
}

export const REJECT_COLUMNS: Columns = { path: "utf8", reason: "utf8" };

export function metaRecord(m: PoolMeta): Record<string, string> {
  return {
    model: m.model,
    embedding_dim: String(m.embeddingDim),
    image_size: String(m.imageSize),
    ...(m.descriptor ? { descriptor: m.descriptor, descriptor_dim: String(m.descriptorDim) } : {}),
  };
}

export function parseMeta(table: string, md: ReadonlyMap<string, string>): PoolMeta {
  const dim = Number(md.get("embedding_dim"));
  if (!md.has("model") || !Number.isInteger(dim)) {
    throw new CurateError(
      `table "${table}"`,
      "has no curation metadata (model, embedding_dim)",
      "was it written by `dinov2 curate embed`?",
    );
  }
  return {
    model: md.get("model")!,
    embeddingDim: dim,
    imageSize: Number(md.get("image_size")),
    ...(md.has("descriptor")
      ? { descriptor: md.get("descriptor")!, descriptorDim: Number(md.get("descriptor_dim")) }
      : {}),
  };
}

/** Fails when `table` was embedded with another embedding width than `want`. */
export function checkCompatible(table: string, have: PoolMeta, want: PoolMeta): void {
  if (have.embeddingDim !== want.embeddingDim || have.imageSize !== want.imageSize) {
    throw new CurateError(
      `table "${table}"`,
      `was embedded by ${have.model} (embedding width ${have.embeddingDim}, image ${have.imageSize}px); this run uses ${want.model} (width ${want.embeddingDim}, image ${want.imageSize}px)`,
      "use the same --model and --image-size, or a fresh --db",
    );
  }
  if (have.descriptor !== want.descriptor) {
    throw new CurateError(
      `table "${table}"`,
      `holds copy descriptors of ${have.descriptor ?? "no --descriptor model"}; this run uses ${want.descriptor ?? "none"}`,
      "descriptors of different models are never mixed: use the same --descriptor (file, size, mean, std), or a fresh --db",
    );
  }
}

export function toRow(r: PoolRow, id?: number): Row {
  return {
    ...(id === undefined ? {} : { id }),
    path: r.path,
    hash: r.hash,
    width: r.width,
    height: r.height,
    embedding: r.embedding,
    phash: r.phash,
    ...(r.descriptor ? { descriptor: r.descriptor } : {}),
  };
}

export function rejectRow(r: Reject): Row {
  return { path: r.path, reason: r.reason };
}

/** A merged pool in memory, rows in id order. */
export interface Pool {
  readonly meta: PoolMeta;
  readonly paths: string[];
  readonly width: Int32Array;
  readonly height: Int32Array;
  readonly embedding: Float32Array;
  readonly phash: Float32Array;
  /** Unit --descriptor rows [size, meta.descriptorDim], when the pool has them. */
  readonly descriptor?: Float32Array;
  readonly size: number;
}

/** Reads the merged `pool` table; fails naming it when missing or empty. */
export async function readPool(store: CurateStore): Promise<Pool> {
  if (!(await store.has(POOL))) {
    throw new CurateError(
      `table "${POOL}"`,
      `not found in ${store.uri}`,
      "run `dinov2 curate embed` first (and --merge after sharded runs)",
    );
  }
  const meta = parseMeta(POOL, await store.metadata(POOL));
  const t = await store.read(POOL, [
    "id",
    "path",
    "width",
    "height",
    "embedding",
    "phash",
    ...(meta.descriptorDim ? ["descriptor"] : []),
  ]);
  if (t.numRows === 0)
    throw new CurateError(`table "${POOL}"`, "the pool is empty: no image could be embedded");
  const ids = column<number>(t, "id");
  const order = Int32Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
  const paths = column<string>(t, "path");
  const w = column<number>(t, "width");
  const h = column<number>(t, "height");
  const e = vectors(t, "embedding");
  const p = vectors(t, "phash");
  const n = t.numRows;
  const embedding = new Float32Array(n * e.dim);
  const phash = new Float32Array(n * p.dim);
  const d = meta.descriptorDim ? vectors(t, "descriptor") : undefined;
  const descriptor = d ? new Float32Array(n * d.dim) : undefined;
  order.forEach((src, dst) => {
    embedding.set(e.data.subarray(src * e.dim, (src + 1) * e.dim), dst * e.dim);
    phash.set(p.data.subarray(src * p.dim, (src + 1) * p.dim), dst * p.dim);
    if (d) descriptor!.set(d.data.subarray(src * d.dim, (src + 1) * d.dim), dst * d.dim);
  });
  return {
    meta,
    paths: Array.from(order, (i) => paths[i]!),
    width: Int32Array.from(order, (i) => w[i]!),
    height: Int32Array.from(order, (i) => h[i]!),
    embedding,
    phash,
    ...(descriptor ? { descriptor } : {}),
    size: n,
  };
}
