// Segmentation metrics as mmseg computes them (mmseg/core/evaluation/metrics.py): a confusion
// matrix over labelled pixels (ignore_index skipped), per-class IoU, mIoU over the classes that
// occur (NaN classes left out, nanmean), and overall pixel accuracy (mmseg's aAcc).
import { ShapeError } from "../core/index.js";

export const SEG_IGNORE_INDEX = 255;

export interface SegMetrics {
  /** Mean IoU over classes present in the labels or the predictions. */
  readonly mIoU: number;
  /** IoU per class; NaN where the class is neither labelled nor predicted. */
  readonly perClassIoU: readonly number[];
  /** Correct labelled pixels / labelled pixels. */
  readonly pixelAccuracy: number;
  /** Per-class accuracy averaged over labelled classes (mmseg's mAcc). */
  readonly meanAccuracy: number;
  readonly labelledPixels: number;
}

/** A K×K confusion matrix: row = label, column = prediction. */
export class ConfusionMatrix {
  readonly counts: Float64Array;

  constructor(readonly numClasses: number) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds predictions and labels of the same pixels; labels of ignoreIndex are skipped. */
  add(pred: ArrayLike<number>, label: ArrayLike<number>, ignoreIndex = SEG_IGNORE_INDEX): void {
    if (pred.length !== label.length) {
      throw new ShapeError(
        "ConfusionMatrix.add",
        `${pred.length} predictions for ${label.length} labels`,
      );
    }
    const k = this.numClasses;
    for (let i = 0; i < label.length; i++) {
      const l = label[i]!;
      if (l === ignoreIndex) continue;
      if (l < 0 || l >= k || !Number.isInteger(l)) {
        throw new ShapeError(
          "ConfusionMatrix.add",
          `label ${l} at pixel ${i} is outside 0..${k - 1}`,
          { hint: `labels must be class indices below ${k} or ${ignoreIndex} (ignored)` },
        );
      }
      this.counts[l * k + pred[i]!]! += 1;
    }
  }

  metrics(): SegMetrics {
    const k = this.numClasses;
    const iou: number[] = [];
    const acc: number[] = [];
    let correct = 0;
    let total = 0;
    for (let c = 0; c < k; c++) {
      let labelled = 0;
      let predicted = 0;
      for (let j = 0; j < k; j++) {
        labelled += this.counts[c * k + j]!;
        predicted += this.counts[j * k + c]!;
      }
      const hit = this.counts[c * k + c]!;
      const union = labelled + predicted - hit;
      iou.push(union > 0 ? hit / union : Number.NaN);
      acc.push(labelled > 0 ? hit / labelled : Number.NaN);
      correct += hit;
      total += labelled;
    }
    return {
      mIoU: nanMean(iou),
      perClassIoU: iou,
      pixelAccuracy: total > 0 ? correct / total : Number.NaN,
      meanAccuracy: nanMean(acc),
      labelledPixels: total,
    };
  }
}

function nanMean(xs: readonly number[]): number {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
}
