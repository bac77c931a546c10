// `curate embed`: image files -> this shard's part of the pool (resumable, chunk by chunk), and
// the merge of all parts into the `pool` table, where exact duplicates (same content hash) go.
import type { Embedder } from "../inference/embedder.js";
import { CurateError } from "./errors.js";
import { featurize, type PoolRow } from "./featurize.js";
import type { DescriptorModel } from "./onnx-descriptor.js";
import {
  checkCompatible,
  EXACT_DUPLICATES,
  metaRecord,
  POOL,
  type PoolMeta,
  parseMeta,
  poolColumns,
  REJECT_COLUMNS,
  REJECTS,
  rejectRow,
  toRow,
} from "./pool.js";
import { ownsRow, type Shard, shardTag } from "./shard.js";
import { type CurateStore, column, type Row, vectors } from "./store.js";

const PART = /^embed_part_(\d+)of(\d+)$/;

export interface EmbedStageOptions {
  readonly store: CurateStore;
  /** Every input file of the pool, sorted (all shards must see the same list). */
  readonly files: readonly string[];
  readonly embedder: Embedder;
  /** A copy-detection descriptor model; `meta.descriptor` must name it. */
  readonly descriptor?: DescriptorModel;
  readonly meta: PoolMeta;
  readonly shard: Shard;
  /** Files per committed chunk; a killed run loses at most one chunk (default 256). */
  readonly chunk?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EmbedPartSummary {
  readonly embedded: number;
  readonly rejected: number;
  /** Files found already done by an earlier, interrupted run. */
  readonly resumed: number;
}

/** Embeds this shard's files into `embed_part_<I>of<N>`; skips those an earlier run committed. */
export async function embedPart(o: EmbedStageOptions): Promise<EmbedPartSummary> {
  const tag = shardTag(o.shard);
  const part = `embed_part_${tag}`;
  const rejects = `embed_rejects_${tag}`;
  const done = `embed_done_${tag}`;
  if (o.meta.descriptor !== o.descriptor?.id)
    throw new CurateError(
      "embed",
      `meta names descriptor ${o.meta.descriptor}; the model given is ${o.descriptor?.id}`,
    );
  await checkExisting(o.store, o.meta);
  const mine = o.files.filter((_, i) => ownsRow(o.shard, i));
  const seen = new Set<string>();
  if (await o.store.has(part))
    for (const p of column<string>(await o.store.read(part, ["path"]), "path")) seen.add(p);
  if (await o.store.has(rejects))
    for (const p of column<string>(await o.store.read(rejects, ["path"]), "path")) seen.add(p);
  const todo = mine.filter((f) => !seen.has(f));
  const chunk = o.chunk ?? 256;
  let embedded = 0;
  let rejected = 0;
  o.onProgress?.(mine.length - todo.length, mine.length);
  for (let i = 0; i < todo.length; i += chunk) {
    const { rows, rejects: bad } = await featurize(
      todo.slice(i, i + chunk),
      o.embedder,
      o.descriptor,
    );
    // Rejects first: a file is done once it is in either table, and rows commit last.
    await o.store.append(rejects, REJECT_COLUMNS, bad.map(rejectRow));
    await o.store.append(
      part,
      poolColumns(o.meta, false),
      rows.map((r) => toRow(r)),
      metaRecord(o.meta),
    );
    embedded += rows.length;
    rejected += bad.length;
    o.onProgress?.(mine.length - todo.length + i + Math.min(chunk, todo.length - i), mine.length);
  }
  await o.store.append(part, poolColumns(o.meta, false), [], metaRecord(o.meta));
  await o.store.append(rejects, REJECT_COLUMNS, []);
  await o.store.write(done, { files: "int32" }, [{ files: mine.length }]);
  return { embedded, rejected, resumed: mine.length - todo.length };
}

/** A pool or part written by another model (other width) cannot be extended. */
async function checkExisting(store: CurateStore, meta: PoolMeta): Promise<void> {
  for (const name of await store.names()) {
    if (name === POOL || PART.test(name))
      checkCompatible(name, parseMeta(name, await store.metadata(name)), meta);
  }
}

export interface MergeSummary {
  readonly shards: number;
  readonly pool: number;
  readonly rejected: number;
  readonly exactDuplicates: number;
}

/** Combines every finished part into `pool` (ids in path order) and drops exact duplicates. */
export async function mergeEmbedParts(store: CurateStore): Promise<MergeSummary> {
  const names = await store.names();
  const parts = names.map((n) => PART.exec(n)).filter((m): m is RegExpExecArray => m !== null);
  if (parts.length === 0) {
    throw new CurateError(
      "embed --merge",
      `no embed parts in ${store.uri}`,
      "run `dinov2 curate embed` (with --shard I/N per worker) first",
    );
  }
  const counts = new Set(parts.map((m) => Number(m[2])));
  if (counts.size > 1) {
    throw new CurateError(
      "embed --merge",
      `parts of different shard counts (${[...counts].join(", ")}) in ${store.uri}`,
      "use one --shard N for all workers, or a fresh --db",
    );
  }
  const n = [...counts][0]!;
  const missing = Array.from({ length: n }, (_, i) => i).filter(
    (i) => !names.includes(`embed_done_${i}of${n}`),
  );
  if (missing.length > 0) {
    throw new CurateError(
      "embed --merge",
      `shards ${missing.map((i) => `${i}/${n}`).join(", ")} have not finished`,
      "run (or rerun: it resumes) those shards first",
    );
  }
  let meta: PoolMeta | undefined;
  const rows: PoolRow[] = [];
  const rejects: Row[] = [];
  for (let i = 0; i < n; i++) {
    const name = `embed_part_${i}of${n}`;
    const m = parseMeta(name, await store.metadata(name));
    if (meta) checkCompatible(name, m, meta);
    meta ??= m;
    const t = await store.read(name, [
      ...["path", "hash", "width", "height", "embedding", "phash"],
      ...(m.descriptorDim ? ["descriptor"] : []),
    ]);
    const [paths, hashes, w, h] = [
      column<string>(t, "path"),
      column<string>(t, "hash"),
      column<number>(t, "width"),
      column<number>(t, "height"),
    ];
    const e = vectors(t, "embedding");
    const p = vectors(t, "phash");
    const d = m.descriptorDim ? vectors(t, "descriptor") : undefined;
    for (const [r, path] of paths.entries()) {
      rows.push({
        path,
        hash: hashes[r]!,
        width: w[r]!,
        height: h[r]!,
        embedding: e.data.slice(r * e.dim, (r + 1) * e.dim),
        phash: p.data.slice(r * p.dim, (r + 1) * p.dim),
        ...(d ? { descriptor: d.data.slice(r * d.dim, (r + 1) * d.dim) } : {}),
      });
    }
    const rt = await store.read(`embed_rejects_${i}of${n}`, ["path", "reason"]);
    const rp = column<string>(rt, "path");
    const rr = column<string>(rt, "reason");
    for (const [r, path] of rp.entries()) rejects.push({ path, reason: rr[r]! });
  }
  rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const firstByHash = new Map<string, string>();
  const kept: Row[] = [];
  const dups: Row[] = [];
  for (const r of rows) {
    const first = firstByHash.get(r.hash);
    if (first !== undefined) dups.push({ path: r.path, kept_path: first });
    else {
      firstByHash.set(r.hash, r.path);
      kept.push(toRow(r, kept.length));
    }
  }
  rejects.sort((a, b) => ((a.path as string) < (b.path as string) ? -1 : 1));
  await store.write(POOL, poolColumns(meta!, true), kept, metaRecord(meta!));
  await store.write(REJECTS, REJECT_COLUMNS, rejects);
  await store.write(EXACT_DUPLICATES, { path: "utf8", kept_path: "utf8" }, dups);
  if (kept.length === 0) {
    throw new CurateError(
      "embed",
      `empty pool: none of the ${rejects.length} files could be embedded`,
      `see the "${REJECTS}" table in ${store.uri} for each file's reason`,
    );
  }
  return { shards: n, pool: kept.length, rejected: rejects.length, exactDuplicates: dups.length };
}
