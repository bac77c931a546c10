// The linear probe's input rows (dinov2/eval/linear.py create_linear_input): from
// get_intermediate_layers(x, n=4, return_class_token=True) with the final norm, a row holds the CLS
// tokens of the last `blocks` blocks (oldest first) and then the mean patch token of the last
// block. Every head's input is then one contiguous column range of that row:
//   n_last_blocks=1, avgpool off: CLS_L                     (D)
//   n_last_blocks=1, avgpool on:  CLS_L, mean(patches_L)    (2D)
//   n_last_blocks=4, avgpool off: CLS_{L-3..L}              (4D)
//   n_last_blocks=4, avgpool on:  CLS_{L-3..L}, mean(...)   (5D)
import { concat, mean, ShapeError } from "../core/index.js";
import type { FeatureHead } from "./feature-stream.js";

/** Column layout of cached probe rows. */
export interface ProbeLayout {
  readonly embedDim: number;
  /** CLS tokens of this many last blocks are stored (4, or the depth when shallower). */
  readonly blocks: number;
  /** Whether the mean patch token of the last block follows them. */
  readonly avgpool: boolean;
}

export interface HeadConfig {
  readonly nBlocks: number;
  readonly avgpool: boolean;
}

/** dinov2's n_last_blocks_list. */
export const N_LAST_BLOCKS: readonly number[] = [1, 4];

/** The layout of probe-feature rows for a backbone of `depth` blocks. */
export function probeLayout(embedDim: number, depth: number): ProbeLayout {
  return { embedDim, blocks: Math.min(4, depth), avgpool: true };
}

/** Values per row. */
export function probeWidth(l: ProbeLayout): number {
  return (l.blocks + (l.avgpool ? 1 : 0)) * l.embedDim;
}

/**
 * The grid's head configurations the layout can feed, in dinov2's order (n_last_blocks outer,
 * avgpool inner). A backbone shallower than 4 blocks has only n_last_blocks = 1; a layout without
 * avgpool only avgpool off; a single-block layout narrower than 4 is its own single config.
 */
export function headConfigs(l: ProbeLayout): HeadConfig[] {
  const ns = N_LAST_BLOCKS.filter((n) => n <= l.blocks);
  if (ns.length === 0) {
    throw new ShapeError("headConfigs", `a probe layout needs ≥ 1 block; got ${l.blocks}`);
  }
  return ns.flatMap((nBlocks) =>
    (l.avgpool ? [false, true] : [false]).map((avgpool) => ({ nBlocks, avgpool })),
  );
}

/** [first column, width] of a head's input in a row of layout `l`. */
export function probeColumns(l: ProbeLayout, c: HeadConfig): [number, number] {
  const start = (l.blocks - c.nBlocks) * l.embedDim;
  return [start, (c.nBlocks + (c.avgpool ? 1 : 0)) * l.embedDim];
}

/** dinov2's classifier name: f"classifier_{n}_blocks_avgpool_{avgpool}_lr_{lr:.5f}" with . -> _. */
export function headName(c: HeadConfig, lr: number): string {
  const avg = c.avgpool ? "True" : "False";
  return `classifier_${c.nBlocks}_blocks_avgpool_${avg}_lr_${lr.toFixed(5)}`.replaceAll(".", "_");
}

/** A streamFeatures head giving the probe rows `x` [B, (blocks + 1)·D] of the last `blocks`. */
export function probeFeatureHead(blocks: number): FeatureHead {
  return (model, images) => {
    const inter = model.getIntermediateLayers(images, { n: blocks, norm: true });
    const last = inter[inter.length - 1]!;
    return { x: concat([...inter.map((i) => i.cls), mean(last.patches, 1)], 1) };
  };
}
