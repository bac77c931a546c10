// Writing embeddings: NumPy .npy (format 1.0, little-endian float32) or safetensors, plus a
// `<output>.jsonl` index with one {index, path} line per feature row.
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { dirname, extname } from "node:path";
import { ConfigError } from "../config/errors.js";
import { hostTensor } from "../core/index.js";
import { fsyncDirectory, writeSafetensorsFile } from "../io/index.js";
import type { Embeddings } from "./embed.js";

export const FEATURE_FORMATS = [".npy", ".safetensors"] as const;

export interface WrittenFeatures {
  /** Every file written: the features, any extra .npy arrays, and the .jsonl index. */
  readonly files: readonly string[];
}

/**
 * Writes `cls` [N, D] (and `patch_tokens` [N, P, D], `register_tokens` [N, R, D] when present)
 * to `output`: keys of one .safetensors file, or `<stem>.<key>.npy` files beside a .npy.
 */
export async function writeFeatures(output: string, e: Embeddings): Promise<WrittenFeatures> {
  const format = featureFormat(output);
  const arrays: [string, Float32Array, number[]][] = [["cls", e.cls, [e.count, e.dim]]];
  if (e.patches) arrays.push(["patch_tokens", e.patches, [e.count, e.numPatches, e.dim]]);
  if (e.registers) arrays.push(["register_tokens", e.registers, [e.count, e.numRegisters, e.dim]]);
  const files: string[] = [];
  await mkdir(dirname(output), { recursive: true });
  if (format === ".safetensors") {
    const tensors = Object.fromEntries(
      arrays.map(([k, data, shape]) => [k, hostTensor("float32", shape, data)]),
    );
    writeSafetensorsFile(output, tensors, { format: "pt", producer: "dinov2-ts embed" });
    files.push(output);
  } else {
    const stem = output.slice(0, -".npy".length);
    for (const [key, data, shape] of arrays) {
      const path = key === "cls" ? output : `${stem}.${key}.npy`;
      await writeNpy(path, data, shape);
      files.push(path);
    }
  }
  const index = `${output}.jsonl`;
  await writeFile(
    index,
    e.paths.map((path, i) => `${JSON.stringify({ index: i, path })}\n`).join(""),
  );
  files.push(index);
  return { files };
}

/** The output format from the file name; anything else is refused with the choices. */
export function featureFormat(output: string): (typeof FEATURE_FORMATS)[number] {
  const ext = extname(output).toLowerCase();
  const f = FEATURE_FORMATS.find((x) => x === ext);
  if (!f) {
    throw new ConfigError(
      "output",
      `unsupported features file "${output}"; expected a name ending in ${FEATURE_FORMATS.join(" or ")}`,
    );
  }
  return f;
}

/**
 * The .npy header for a little-endian float32 C-order array: magic, version 1.0, the header
 * length, and the dict padded with spaces so that the data starts on a 64-byte boundary.
 */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = 10 + dict.length + 1;
  const text = `${dict}${" ".repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, ...Buffer.from("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(Buffer.from(text, "latin1"), 10);
  return out;
}

/** Writes a float32 array as .npy (through a temporary file, renamed into place). */
export async function writeNpy(
  path: string,
  data: Float32Array,
  shape: readonly number[],
): Promise<void> {
  const n = shape.reduce((a, d) => a * d, 1);
  if (n !== data.length)
    throw new RangeError(`writeNpy: ${data.length} values do not fill shape [${shape}]`);
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  try {
    for (const chunk of [npyHeader(shape), littleEndianBytes(data)]) {
      for (let at = 0; at < chunk.length; ) at += (await fh.write(chunk, at)).bytesWritten;
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    fsyncDirectory(dirname(path));
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The array's bytes as little-endian float32 (a view on little-endian hosts). */
function littleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f) return bytes;
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return out;
}
