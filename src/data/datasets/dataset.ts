// Labeled image datasets: the record and dataset types, and the serialisable spec that lets
// loader workers open the same dataset in another thread.
import type { Uint8Image } from "../image.js";
import { createImageFolderDataset, type ImageFolderSpec } from "./image-folder.js";
import { createSyntheticDataset, type SyntheticSpec } from "./synthetic.js";

/** A decoded RGB image (H×W×3 uint8) and its class label (-1 when the dataset has none). */
export interface ImageRecord extends Uint8Image {
  readonly label: number;
}

/** A file that could not be decoded and was skipped. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export interface ImageDataset {
  readonly length: number;
  /** Class names indexed by label; empty for an unlabeled dataset. */
  readonly classNames: readonly string[];
  /** The image at `index`, or null when its file cannot be decoded (then listed in `skipped`). */
  get(index: number): Promise<ImageRecord | null>;
  /** Files skipped so far by this instance. */
  readonly skipped: readonly SkippedFile[];
}

/** Plain data (structured-clonable) that describes a dataset; `openDataset` builds it. */
export type DatasetSpec = SyntheticSpec | ImageFolderSpec;

interface DatasetKind<S> {
  readonly open: (spec: S) => ImageDataset;
  readonly length: (spec: S) => number;
}

const KINDS: {
  readonly [K in DatasetSpec["kind"]]: DatasetKind<Extract<DatasetSpec, { kind: K }>>;
} = {
  synthetic: { open: createSyntheticDataset, length: (s) => s.length },
  "image-folder": { open: createImageFolderDataset, length: (s) => s.files.length },
};

/** Builds the dataset a spec describes (in this thread). */
export function openDataset(spec: DatasetSpec): ImageDataset {
  return (KINDS[spec.kind] as DatasetKind<DatasetSpec>).open(spec);
}

/** Number of images a spec describes, without opening it. */
export function datasetLength(spec: DatasetSpec): number {
  return (KINDS[spec.kind] as DatasetKind<DatasetSpec>).length(spec);
}
