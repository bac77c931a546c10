// One batch of the SSL pipeline: decode, multi-crop augment and collate a list of indices. The
// same code runs in the loader's worker threads and in-thread, so the output never depends on where.
import { createDataAugmentationDino, type DataAugmentationDinoOptions } from "./augment.js";
import { collateSsl, type SslBatch, type SslSample } from "./collate.js";
import {
  type DatasetSpec,
  type ImageDataset,
  type ImageRecord,
  openDataset,
  type SkippedFile,
} from "./datasets/dataset.js";
import { DataError } from "./errors.js";
import { createRng } from "./rng.js";

/** Everything a worker needs to rebuild the pipeline: plain, structured-clonable data. */
export interface SslPipelineConfig {
  readonly dataset: DatasetSpec;
  readonly seed: number;
  readonly augmentation?: Partial<DataAugmentationDinoOptions>;
  readonly maskRatioMinMax?: readonly [number, number];
  readonly maskProbability?: number;
  readonly patchSize: number;
}

export interface BatchJob {
  /** Position of the batch in the stream; seeds its samples' and its masks' streams. */
  readonly batchIndex: number;
  readonly indices: readonly number[];
}

export interface BatchResult {
  readonly batchIndex: number;
  readonly batch: SslBatch;
  /** Files that failed to decode while building this batch (replaced by the next index). */
  readonly skipped: readonly SkippedFile[];
}

export type BatchRunner = (job: BatchJob) => Promise<BatchResult>;

/** Opens the dataset and augmentation once; each job is then a pure function of its fields. */
export function createBatchRunner(config: SslPipelineConfig): BatchRunner {
  const dataset = openDataset(config.dataset);
  const augment = createDataAugmentationDino(config.augmentation ?? {});
  const globalCropsSize = config.augmentation?.globalCropsSize ?? 224;
  const root = createRng(config.seed);
  return async ({ batchIndex, indices }) => {
    const skippedBefore = dataset.skipped.length;
    const sampleRng = root.split("sample").split(batchIndex);
    const samples: SslSample[] = [];
    for (const [j, index] of indices.entries()) {
      const record = await loadOrSubstitute(dataset, index);
      samples.push({ ...augment(record, sampleRng.split(j)), label: record.label });
    }
    const batch = collateSsl(samples, {
      maskRatioMinMax: config.maskRatioMinMax ?? [0.1, 0.5],
      maskProbability: config.maskProbability ?? 0.5,
      patchSize: config.patchSize,
      globalCropsSize,
      rng: root.split("collate").split(batchIndex),
    });
    return { batchIndex, batch, skipped: dataset.skipped.slice(skippedBefore) };
  };
}

/** The image at `index`, or the next decodable one after it (wrapping), so a bad file never stops training. */
async function loadOrSubstitute(dataset: ImageDataset, index: number): Promise<ImageRecord> {
  for (let t = 0; t < dataset.length; t++) {
    const record = await dataset.get((index + t) % dataset.length);
    if (record) return record;
  }
  const first = dataset.skipped[0];
  throw new DataError(
    "loader",
    first?.path ?? "<dataset>",
    `no image of the ${dataset.length} in the dataset could be decoded`,
  );
}

/** The ArrayBuffers of a batch, for a zero-copy postMessage transfer. */
export function batchTransferList(batch: SslBatch): ArrayBuffer[] {
  const arrays = [
    batch.globalCrops,
    batch.localCrops,
    batch.masks,
    batch.maskIndices,
    batch.maskWeights,
    batch.labels,
  ];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}
