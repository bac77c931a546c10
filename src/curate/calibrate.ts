// Calibrating a copy descriptor's threshold on planted copies, the way pHash's default was set
// (descriptors.ts): embed a pool with known copies (`curate synth`, or any folder with a
// manifest.json of the same form), then compare the cosine of every planted copy with its source
// against the highest cosine between two distinct originals. The suggested threshold is the
// smallest multiple of 0.01 above every distinct pair (no false edge on this pool); its recall is
// the share of planted copies above it. `curate calibrate` prints this; dedup.test.ts checks the
// pHash default with it.
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { CurateError } from "./errors.js";
import type { Pool } from "./pool.js";
import type { PlantedCopy } from "./synthetic-pool.js";

/** The parts of a synthetic pool's manifest.json that calibration reads. */
export interface PlantedManifest {
  /** Pool file (relative) -> label, for every decodable pool image. */
  readonly labels: Readonly<Record<string, number>>;
  readonly copies: readonly PlantedCopy[];
  readonly nearTest?: readonly PlantedCopy[];
  readonly exact?: readonly PlantedCopy[];
}

export interface Calibration {
  /** Cosine of each planted copy with its source, ascending. */
  readonly copyCosines: readonly number[];
  /** Pairs of distinct originals compared, and their highest cosine. */
  readonly distinctPairs: number;
  readonly distinctMax: number;
  /** Smallest multiple of 0.01 strictly above distinctMax. */
  readonly threshold: number;
  /** Share of planted copies with cosine > threshold. */
  readonly recall: number;
}

export async function readManifest(dir: string): Promise<PlantedManifest> {
  const path = join(dir, "manifest.json");
  let m: PlantedManifest;
  try {
    m = JSON.parse(await readFile(path, "utf8")) as PlantedManifest;
  } catch (e) {
    throw new CurateError(
      `--planted ${dir}`,
      `cannot read ${path}: ${(e as Error).message.split("\n")[0]}`,
      "write a planted pool with `dinov2 curate synth --output DIR` first",
    );
  }
  if (typeof m.labels !== "object" || !Array.isArray(m.copies) || m.copies.length === 0)
    throw new CurateError(path, "needs `labels` and a non-empty `copies` list ({copy, source})");
  return m;
}

/**
 * Copy and distinct-pair cosines of `rows` (unit descriptors of `pool`, one per pool row) on a
 * pool embedded from a planted folder. Files are matched by name; a source dropped as an exact
 * duplicate is found through its byte-identical twin.
 */
export function calibrate(
  pool: Pool,
  rows: { readonly data: Float32Array; readonly dim: number },
  m: PlantedManifest,
): Calibration {
  const idOf = new Map(pool.paths.map((p, i) => [basename(p), i]));
  const twin = new Map((m.exact ?? []).map((e) => [e.source, e.copy]));
  const find = (name: string): number | undefined => idOf.get(name) ?? idOf.get(twin.get(name)!);
  const cos = (a: number, b: number) => {
    let s = 0;
    for (let d = 0; d < rows.dim; d++)
      s += rows.data[a * rows.dim + d]! * rows.data[b * rows.dim + d]!;
    return s;
  };
  const copyCosines: number[] = [];
  const missing: string[] = [];
  for (const c of m.copies) {
    const [a, b] = [find(c.copy), find(c.source)];
    if (a === undefined || b === undefined) missing.push(a === undefined ? c.copy : c.source);
    else copyCosines.push(cos(a, b));
  }
  if (missing.length > 0) {
    throw new CurateError(
      "calibrate",
      `${missing.length} planted files are not in the pool (e.g. ${missing[0]})`,
      "embed the planted folder's pool/ into this --db first",
    );
  }
  // Distinct originals: labelled pool files that are no copy of anything.
  const derived = new Set(
    [...m.copies, ...(m.nearTest ?? []), ...(m.exact ?? [])].map((c) => c.copy),
  );
  const originals = Object.keys(m.labels)
    .filter((f) => !derived.has(f))
    .map(find)
    .filter((i): i is number => i !== undefined);
  let distinctMax = Number.NEGATIVE_INFINITY;
  let distinctPairs = 0;
  for (let i = 0; i < originals.length; i++) {
    for (let j = i + 1; j < originals.length; j++) {
      distinctMax = Math.max(distinctMax, cos(originals[i]!, originals[j]!));
      distinctPairs++;
    }
  }
  if (distinctPairs === 0) throw new CurateError("calibrate", "fewer than two distinct originals");
  const threshold = Math.min(1, (Math.floor(distinctMax * 100 + 1e-9) + 1) / 100);
  copyCosines.sort((a, b) => a - b);
  const recall = copyCosines.filter((c) => c > threshold).length / copyCosines.length;
  return { copyCosines, distinctPairs, distinctMax, threshold, recall };
}
