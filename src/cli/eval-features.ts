// Frozen-backbone features of a labeled image folder (class subfolders), for eval-knn and
// eval-linear: the official eval transform, then the CLS token of every image.
import { scanImageFolder } from "../data/datasets/image-folder.js";
import { extractFeatures } from "../eval/features.js";
import type { FeatureSet } from "../eval/metrics.js";
import type { Backbone } from "../models/backbone.js";
import type { Runtime } from "../runtime/index.js";
import { loadLabeled } from "./knn-monitor.js";
import { UsageError } from "./usage-error.js";

export interface FolderFeatures extends FeatureSet {
  readonly classNames: readonly string[];
}

export async function labeledFolderFeatures(
  runtime: Runtime,
  backbone: Backbone,
  dir: string,
  imageSize: number,
  log: (s: string) => void,
): Promise<FolderFeatures> {
  const scan = await scanImageFolder(dir);
  if (scan.spec.classNames.length < 2) {
    throw new UsageError(
      `${dir} needs class subfolders (at least 2) to evaluate; found ${scan.spec.classNames.length}`,
    );
  }
  if (scan.skipped.length) log(`skipped ${scan.skipped.length} unreadable file(s) in ${dir}`);
  const images = await loadLabeled(scan.spec, imageSize, backbone.options.patchSize);
  log(`${dir}: ${images.count} images in ${scan.spec.classNames.length} classes`);
  const f = await extractFeatures(runtime, backbone, [images.images], { batchSize: 32, imageSize });
  return { features: f.cls, labels: images.labels, dim: f.dim, classNames: scan.spec.classNames };
}
