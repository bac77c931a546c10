// One fixed SSL batch for step benchmarks and profiles: the synthetic set through the config's
// augmentation and collate, so every process times the same inputs.
import type { ResolvedConfig } from "../src/config/index.js";
import type { SslBatch } from "../src/data/collate.js";
import { createSslLoader } from "../src/data/loader.js";
import { augmentationFromTrain } from "../src/train/from-config.js";
import type { StepConfig } from "../src/train/step-config.js";

export async function fixedStepBatch(resolved: ResolvedConfig, c: StepConfig): Promise<SslBatch> {
  const loader = createSslLoader({
    dataset: { kind: "synthetic", seed: 1, length: 64, size: Math.max(64, c.globalSize + 32) },
    seed: 0,
    patchSize: c.arch.backbone.patchSize,
    augmentation: augmentationFromTrain(resolved),
    batchSize: c.batch,
    numBatches: 1,
  });
  const batch = (await loader.next())!;
  await loader.close();
  return batch;
}
