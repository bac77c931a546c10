// Copy-detection descriptors and their thresholds. A threshold belongs to a descriptor: the
// paper's 0.6 (self) and 0.45 (relative) are for SSCD. pHash's default was calibrated on planted
// pools of synthetic-pool.ts (seeds 1, 3, 5; each 300 originals with 95 planted copies: crops
// keeping 95–99% of each side, resizes ×0.5–2, colour changes, JPEG q30–70): the 44,850 pairs of
// distinct originals per seed reached cosine 0.388 at most, and 282 of the 285 copies scored above
// 0.4 (the three below were crops: −0.07, 0.34, 0.37). So 0.4 (Hamming ≤ 76 of 255 bits) gives
// 100% precision and 98.9% recall there; dedup.test.ts re-measures it on seed 3 (100% / 100%).
// Stronger crops need a trained copy detector (the paper used SSCD).
// CLS cosines depend on the model and its training (the issue measured distinct pairs at a median
// of 0.53 for a small ViT), so the embedding descriptor has no default: pass --threshold. Nor has
// a descriptor model given as FILE.onnx (SSCD or any other): its threshold is calibrated on
// planted copies with `curate calibrate` (calibrate.ts) and passed with --threshold.
import { CurateError } from "./errors.js";

export const DESCRIPTORS = ["phash", "embedding"] as const;
/** "onnx": the pool's column written by a descriptor model (embed --descriptor FILE.onnx). */
export type DescriptorName = (typeof DESCRIPTORS)[number] | "onnx";

/** `--descriptor` as dedup reads it: phash, embedding, or a model file (FILE.onnx). */
export function parseDescriptor(value: string): {
  readonly name: DescriptorName;
  readonly path?: string;
} {
  if ((DESCRIPTORS as readonly string[]).includes(value)) return { name: value as DescriptorName };
  if (value.toLowerCase().endsWith(".onnx")) return { name: "onnx", path: value };
  throw new CurateError(
    "--descriptor",
    `got "${value}"; expected ${DESCRIPTORS.join(", ")} or a model file FILE.onnx`,
  );
}

export interface Thresholds {
  readonly self: number;
  readonly relative: number;
}

const DEFAULTS: Readonly<Record<DescriptorName, Thresholds | undefined>> = {
  phash: { self: 0.4, relative: 0.4 },
  embedding: undefined,
  onnx: undefined,
};

/** The thresholds to use: the flags when given, else the descriptor's calibrated defaults. */
export function thresholdsFor(
  descriptor: DescriptorName,
  self: number | undefined,
  relative: number | undefined,
): Thresholds {
  const d = DEFAULTS[descriptor];
  if (self === undefined && !d) {
    throw new CurateError(
      "--threshold",
      `descriptor "${descriptor}" has no calibrated default: its cosines depend on the model`,
      "calibrate it on planted copies (`dinov2 curate calibrate`, see README) and pass --threshold",
    );
  }
  const s = self ?? d!.self;
  return { self: s, relative: relative ?? d?.relative ?? s };
}
