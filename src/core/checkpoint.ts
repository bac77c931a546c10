// Activation recomputation (gradient checkpointing), as torch.utils.checkpoint does it: a segment
// of the forward graph (one transformer block) keeps only its inputs for the backward pass; the
// grad engine rebuilds the segment's nodes from those inputs when the backward reaches it and
// hands the rebuilt values to the gradient rules, so the forward copies die right after the
// forward pass.
//
// The rebuilt nodes must not be merged back into the forward ones by onnxruntime's common
// subexpression elimination, and must not run before the backward needs them: each segment input
// enters the replay as `x + 0 * g`, where g is one element of the gradient arriving at the
// segment, a value that exists only in the backward pass. `x + (±0)` is x bit for bit, so the
// replay computes exactly the forward values (given finite gradients; a NaN gradient stays NaN).
import { DTYPE_BYTES } from "./dtype.js";
import { topoSort } from "./graph.js";
import { add, mul, reshape, slice } from "./ops/index.js";
import type { Shape } from "./shape.js";
import { Tensor, withScope } from "./tensor.js";

/** A traced stretch of the forward graph between `inputs` and `outputs`. */
export interface Segment {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /** The nodes built inside that depend on an input, inputs before users (outputs included). */
  readonly nodes: readonly Tensor[];
  /** Bytes of those nodes' values: what keeping them for the backward would hold. */
  readonly bytes: number;
}

/**
 * Traces `fn(inputs)` and records the nodes between the inputs and the outputs as a segment:
 * every node on a path from an input to an output (a value fn computes from the inputs).
 */
export function traceSegment(
  inputs: readonly Tensor[],
  fn: (inputs: readonly Tensor[]) => readonly Tensor[],
): Segment {
  const outputs = fn(inputs);
  const dependsOnInput = new Set<Tensor>(inputs);
  const nodes: Tensor[] = [];
  for (const t of topoSort(outputs)) {
    if (dependsOnInput.has(t)) continue;
    if (t.inputs.some((x) => dependsOnInput.has(x))) {
      dependsOnInput.add(t);
      nodes.push(t);
    }
  }
  return { inputs, outputs, nodes, bytes: nodes.reduce((s, t) => s + valueBytes(t), 0) };
}

const recomputed = new WeakMap<Tensor, Segment>();

/** Marks a segment for recomputation: grad() will rebuild its nodes instead of keeping them. */
export function recomputeInBackward(segment: Segment): void {
  for (const t of segment.nodes) recomputed.set(t, segment);
}

/** The recomputed segment a node belongs to, if any. */
export function recomputedSegmentOf(t: Tensor): Segment | undefined {
  return recomputed.get(t);
}

/**
 * Rebuilds `segment`'s nodes from its inputs, each input made to depend on `gradient` (a value
 * of the backward pass). Returns forward node -> rebuilt node.
 */
export function replaySegment(segment: Segment, gradient: Tensor): Map<Tensor, Tensor> {
  return withScope("recompute", () => {
    const flat = reshape(gradient, [numel(gradient.shape)]);
    const tick = mul(reshape(slice(flat, 0, 0, 1), []), 0);
    const map = new Map<Tensor, Tensor>();
    for (const x of segment.inputs) {
      if (x.dtype === gradient.dtype) map.set(x, add(x, tick));
    }
    for (const t of segment.nodes) {
      const ins = t.inputs.map((x) => map.get(x) ?? x);
      map.set(
        t,
        withScope(t.scope, () => new Tensor(t.op, ins, t.attrs, t.shape, t.dtype)),
      );
    }
    return map;
  });
}

function valueBytes(t: Tensor): number {
  return numel(t.shape) * DTYPE_BYTES[t.dtype];
}

function numel(s: Shape): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Chooses which segments to recompute so that the values the others keep fit in `budgetBytes`:
 * the last segments are kept while they fit (their backward comes first), the earlier ones are
 * recomputed. A budget of 0 recomputes every segment.
 */
export function planRecompute(segments: readonly Segment[], budgetBytes: number): Segment[] {
  let kept = 0;
  let i = segments.length;
  while (i > 0 && kept + segments[i - 1]!.bytes <= budgetBytes) kept += segments[--i]!.bytes;
  return segments.slice(0, i);
}
