// Dense (per-pixel) labelled datasets: semantic segmentation (class-index masks, 255 = ignore) and
// depth (metres, 0 = no measurement), and the built-in synthetic segmentation set.
import type { Uint8Image } from "../image.js";
import { createRng } from "../rng.js";
import type { SkippedFile } from "./dataset.js";
import { renderSyntheticWithMask, SYNTHETIC_CLASSES, type SyntheticLayout } from "./synthetic.js";

/** mmseg's ignore_index: pixels with this label count in no metric and no loss. */
export const IGNORE_INDEX = 255;

export interface SegSample {
  readonly image: Uint8Image;
  /** [H × W] class indices, IGNORE_INDEX where unlabelled. */
  readonly mask: Uint8Array;
  readonly name: string;
}

export interface DepthSample {
  readonly image: Uint8Image;
  /** [H × W] depth in metres; 0 where there is no measurement. */
  readonly depth: Float32Array;
  readonly name: string;
}

export interface DenseDataset<S> {
  readonly length: number;
  /** The sample at `index`, or null when a file cannot be decoded (then listed in `skipped`). */
  get(index: number): Promise<S | null>;
  readonly skipped: readonly SkippedFile[];
}

export interface SegDataset extends DenseDataset<SegSample> {
  /** Class names by index (background first for the synthetic set). */
  readonly classNames: readonly string[];
}

export type DepthDataset = DenseDataset<DepthSample>;

export interface SyntheticDenseSpec {
  readonly seed: number;
  readonly length: number;
  readonly size: number;
  /** Shape classes used, 2..10 (default 10); the segmentation set adds "background". */
  readonly numClasses?: number;
  /** Default "scene" (one to four objects); "object": the classification set's one large object. */
  readonly layout?: SyntheticLayout;
}

/**
 * The synthetic classification images (same seed and index give the same pixels) with their
 * masks: class 0 is background, class k + 1 the k-th shape.
 */
export function createSyntheticSegmentation(spec: SyntheticDenseSpec): SegDataset {
  const numClasses = spec.numClasses ?? SYNTHETIC_CLASSES.length;
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > SYNTHETIC_CLASSES.length) {
    throw new RangeError(`synthetic segmentation: numClasses must be 2..10; got ${numClasses}`);
  }
  const root = createRng(spec.seed).split("synthetic");
  return {
    length: spec.length,
    classNames: ["background", ...SYNTHETIC_CLASSES.slice(0, numClasses).map((c) => c.name)],
    skipped: [],
    get: async (index) => {
      const { image, mask } = renderSyntheticWithMask(
        root.split(index),
        index % numClasses,
        spec.size,
        spec.layout ?? "scene",
      );
      return { image, mask, name: `synthetic-${spec.seed}-${index}` };
    },
  };
}
