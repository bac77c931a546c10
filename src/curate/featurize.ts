// Files -> pool rows: content hash, size, backbone embedding (CLS) and pHash descriptor, decoded
// once per file. Zero-byte, truncated and undecodable files become rejects (path and reason).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { decodeImage } from "../data/decode.js";
import type { Uint8Image } from "../data/image.js";
import type { Embedder } from "../inference/embedder.js";
import { preprocessInto } from "../inference/preprocess.js";
import { perceptualHash } from "./phash.js";

export interface PoolRow {
  readonly path: string;
  readonly hash: string;
  readonly width: number;
  readonly height: number;
  readonly embedding: Float32Array;
  readonly phash: Float32Array;
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
export async function featurize(files: readonly string[], embedder: Embedder): Promise<Featurized> {
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
    for (const [i, g] of good.entries()) {
      rows.push({
        path: g.path,
        hash: g.hash,
        width: g.img.width,
        height: g.img.height,
        embedding: cls.slice(i * embedder.dim, (i + 1) * embedder.dim),
        phash: g.phash,
      });
    }
  }
  return { rows, rejects };
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
