// embed(): image files or bytes -> DINOv2 features, through the official eval transform and one
// compiled graph. Undecodable inputs are skipped and reported; the next batch decodes meanwhile.

import type { SkippedFile } from "../data/datasets/dataset.js";
import { decodeImage } from "../data/decode.js";
import { DataError } from "../data/errors.js";
import {
  type BatchFeatures,
  createEmbedder,
  type Embedder,
  type EmbedderOptions,
} from "./embedder.js";
import { preprocessInto } from "./preprocess.js";

/** A file path, or the encoded bytes of an image (a Buffer is a Uint8Array). */
export type ImageSource = string | Uint8Array;

export interface EmbedProgress {
  /** Images embedded so far. */
  readonly done: number;
  readonly skipped: number;
  /** Number of inputs, when they were given as an array. */
  readonly total?: number;
  readonly elapsedMs: number;
}

export interface EmbedOptions extends EmbedderOptions {
  /** Called after each batch. */
  readonly onProgress?: (p: EmbedProgress) => void;
}

export interface Embeddings {
  /** [N, D] normed CLS tokens, one row per embedded image. */
  readonly cls: Float32Array;
  /** [N, P, D] normed patch tokens (with `patchTokens`). */
  readonly patches?: Float32Array;
  /** [N, R, D] normed register tokens (with `registers`). */
  readonly registers?: Float32Array;
  readonly count: number;
  readonly dim: number;
  readonly numPatches: number;
  readonly numRegisters: number;
  /** Source of each row: the path, or `<bytes #i>` for the i-th input given as bytes. */
  readonly paths: readonly string[];
  /** Inputs that could not be read or decoded, with sharp's reason. */
  readonly skipped: readonly SkippedFile[];
}

/**
 * Embeds images with the official eval transform (resize, center crop, normalise).
 * @example const { cls, paths } = await embed(["a.jpg", "b.png"], { modelPath: "dinov2-small" });
 *          // cls: Float32Array [2 * 384]
 */
export async function embed(
  images: readonly ImageSource[] | AsyncIterable<ImageSource>,
  opts: EmbedOptions,
): Promise<Embeddings> {
  const total = Array.isArray(images) ? images.length : undefined;
  if (total === 0) throw new DataError("embed", "(input)", "no images given");
  const batchSize = Math.min(opts.batchSize ?? 32, total ?? Number.POSITIVE_INFINITY);
  const embedder = await createEmbedder({ ...opts, batchSize });
  try {
    return await embedAll(embedder, numbered(images), total, opts.onProgress);
  } finally {
    await embedder.release();
  }
}

interface Numbered {
  readonly source: ImageSource;
  readonly label: string;
}

/** A batch decoded and preprocessed into the graph's input layout. */
interface Prepared {
  readonly pixels: Float32Array;
  readonly labels: string[];
  readonly skipped: SkippedFile[];
  readonly isLast: boolean;
}

async function embedAll(
  embedder: Embedder,
  sources: AsyncIterator<Numbered>,
  total: number | undefined,
  onProgress: EmbedOptions["onProgress"],
): Promise<Embeddings> {
  const start = performance.now();
  const chunks: BatchFeatures[] = [];
  const paths: string[] = [];
  const skipped: SkippedFile[] = [];
  let next = prepareBatch(embedder, sources);
  for (;;) {
    const batch = await next;
    // Decoding the next batch (sharp, off the main thread) overlaps this batch's run.
    if (!batch.isLast) next = prepareBatch(embedder, sources);
    skipped.push(...batch.skipped);
    if (batch.labels.length > 0) {
      chunks.push(copyFeatures(await embedder.run(batch.pixels, batch.labels.length)));
      paths.push(...batch.labels);
    }
    const elapsedMs = performance.now() - start;
    onProgress?.({
      done: paths.length,
      skipped: skipped.length,
      elapsedMs,
      ...(total === undefined ? {} : { total }),
    });
    if (batch.isLast) break;
  }
  if (paths.length + skipped.length === 0)
    throw new DataError("embed", "(input)", "no images given");
  const join = (pick: (c: BatchFeatures) => Float32Array | undefined) =>
    concatChunks(chunks.map(pick));
  const patches = join((c) => c.patches);
  const registers = join((c) => c.registers);
  return {
    cls: join((c) => c.cls) ?? new Float32Array(0),
    ...(patches ? { patches } : {}),
    ...(registers ? { registers } : {}),
    count: paths.length,
    dim: embedder.dim,
    numPatches: embedder.numPatches,
    numRegisters: embedder.numRegisters,
    paths,
    skipped,
  };
}

/** Pulls sources until the batch holds batchSize decoded images or the input ends. */
async function prepareBatch(
  embedder: Embedder,
  sources: AsyncIterator<Numbered>,
): Promise<Prepared> {
  const pixels = new Float32Array(embedder.batchSize * embedder.imageLength);
  const labels: string[] = [];
  const skipped: SkippedFile[] = [];
  let isLast = false;
  while (labels.length < embedder.batchSize && !isLast) {
    const want = embedder.batchSize - labels.length;
    const taken: Numbered[] = [];
    while (taken.length < want) {
      const r = await sources.next();
      if (r.done) {
        isLast = true;
        break;
      }
      taken.push(r.value);
    }
    const decoded = await Promise.allSettled(taken.map((n) => decodeImage(n.source)));
    decoded.forEach((d, i) => {
      const label = taken[i]!.label;
      if (d.status === "rejected") {
        skipped.push({ path: label, reason: firstLine(d.reason) });
        return;
      }
      preprocessInto(d.value, embedder.transform, pixels, labels.length * embedder.imageLength);
      labels.push(label);
    });
  }
  return { pixels, labels, skipped, isLast };
}

async function* numbered(
  images: readonly ImageSource[] | AsyncIterable<ImageSource>,
): AsyncGenerator<Numbered> {
  let i = 0;
  for await (const source of images) {
    yield { source, label: typeof source === "string" ? source : `<bytes #${i}>` };
    i++;
  }
}

/** Run outputs are views of onnxruntime's buffers; keep only the rows we need. */
function copyFeatures(f: BatchFeatures): BatchFeatures {
  return {
    cls: f.cls.slice(),
    ...(f.patches ? { patches: f.patches.slice() } : {}),
    ...(f.registers ? { registers: f.registers.slice() } : {}),
  };
}

function concatChunks(parts: readonly (Float32Array | undefined)[]): Float32Array | undefined {
  if (parts.length === 0 || parts.some((p) => p === undefined)) return undefined;
  const out = new Float32Array(parts.reduce((n, p) => n + p!.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p!, offset);
    offset += p!.length;
  }
  return out;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
