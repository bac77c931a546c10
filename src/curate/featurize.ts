// Files -> pool rows: content hash, size, backbone embedding (CLS), pHash descriptor and, when a
// descriptor model is given, its copy-detection descriptor; decoded once per file. Zero-byte, truncated and undecodable files become rejects (path and reason).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { decodeImage } from "../data/decode.js";
import type { Uint8Image } from "../data/image.js";
import type { Embedder } from "../inference/embedder.js";
import { preprocessInto } from "../inference/preprocess.js";
import type { DescriptorModel } from "./onnx-descriptor.js";
import { perceptualHash } from "./phash.js";

export interface PoolRow {
  readonly path: string;
  readonly hash: string;
  readonly width: number;
  readonly height: number;
  readonly embedding: Float32Array;
  readonly phash: Float32Array;
  /** Unit descriptor of the --descriptor model, when one is given. */
  readonly descriptor?: Float32Array;
}

export interface Reject {
  readonly path: string;
  readonly reason: string;
}

export interface Featurized {
  readonly rows: PoolRow[];
  readonly rejects: Reject[];
}

/** Features of `files` (at most one embedder batch per run, decoded concurrently). */
export async function featurize(
  files: readonly string[],
  embedder: Embedder,
  descriptor?: DescriptorModel,
): Promise<Featurized> {
  const rows: PoolRow[] = [];
  const rejects: Reject[] = [];
  for (let f0 = 0; f0 < files.length; f0 += embedder.batchSize) {
    const chunk = files.slice(f0, f0 + embedder.batchSize);
    const loaded = await Promise.all(chunk.map(load));
    const good: { path: string; hash: string; img: Uint8Image; phash: Float32Array }[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const l = loaded[i]!;
      if ("reason" in l) rejects.push({ path: chunk[i]!, reason: l.reason });
      else good.push({ path: chunk[i]!, ...l });
    }
    if (good.length === 0) continue;
    const pixels = new Float32Array(embedder.batchSize * embedder.imageLength);
    for (const [i, g] of good.entries()) {
      preprocessInto(g.img, embedder.transform, pixels, i * embedder.imageLength);
    }
    const { cls } = await embedder.run(pixels, good.length);
    const desc = descriptor ? await describe(good, descriptor) : undefined;
    for (const [i, g] of good.entries()) {
      rows.push({
        path: g.path,
        hash: g.hash,
        width: g.img.width,
        height: g.img.height,
        embedding: cls.slice(i * embedder.dim, (i + 1) * embedder.dim),
        phash: g.phash,
        ...(desc ? { descriptor: desc.slice(i * descriptor!.dim, (i + 1) * descriptor!.dim) } : {}),
      });
    }
  }
  return { rows, rejects };
}

/** Unit descriptors [images, D] of decoded images, through the model's own transform. */
async function describe(
  images: readonly { img: Uint8Image }[],
  model: DescriptorModel,
): Promise<Float32Array> {
  const pixels = new Float32Array(images.length * model.imageLength);
  for (const [i, g] of images.entries())
    preprocessInto(g.img, model.transform, pixels, i * model.imageLength);
  return model.run(pixels, images.length);
}

/** Descriptors of `files` by `model` (no embedder), for relative dedup against evaluation sets. */
export async function describeFiles(
  files: readonly string[],
  model: DescriptorModel,
): Promise<{ vectors: Float32Array; paths: string[]; rejects: Reject[] }> {
  const loaded = await Promise.all(files.map(load));
  const paths: string[] = [];
  const rejects: Reject[] = [];
  const good: { img: Uint8Image }[] = [];
  loaded.forEach((l, i) => {
    if ("reason" in l) rejects.push({ path: files[i]!, reason: l.reason });
    else {
      paths.push(files[i]!);
      good.push(l);
    }
  });
  return { vectors: await describe(good, model), paths, rejects };
}

async function load(
  path: string,
): Promise<{ hash: string; img: Uint8Image; phash: Float32Array } | { reason: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return { reason: `unreadable: ${firstLine(e)}` };
  }
  if (bytes.length === 0) return { reason: "zero-byte file" };
  try {
    const img = await decodeImage(bytes);
    return {
      hash: createHash("sha256").update(bytes).digest("hex"),
      img,
      phash: await perceptualHash(img),
    };
  } catch (e) {
    return { reason: `undecodable: ${allLines(e)}` };
  }
}

/** sharp's distinct message lines (libvips puts the useful one first or last), joined. */
function allLines(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e))
    .split("\n")
    .filter((l) => l.trim() !== "");
  return [...new Set(lines)].join("; ").slice(0, 300);
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}

/** pHash descriptors of `files` (no model needed), for relative dedup against evaluation sets. */
export async function hashFiles(
  files: readonly string[],
): Promise<{ vectors: Float32Array; paths: string[]; rejects: Reject[] }> {
  const loaded = await Promise.all(files.map(load));
  const paths: string[] = [];
  const rejects: Reject[] = [];
  const hashes: Float32Array[] = [];
  loaded.forEach((l, i) => {
    if ("reason" in l) rejects.push({ path: files[i]!, reason: l.reason });
    else {
      paths.push(files[i]!);
      hashes.push(l.phash);
    }
  });
  const dim = hashes[0]?.length ?? 0;
  const vectors = new Float32Array(hashes.length * dim);
  for (const [i, h] of hashes.entries()) vectors.set(h, i * dim);
  return { vectors, paths, rejects };
}
