// Reverse-mode differentiation: grad(loss, wrt) builds the backward pass as more graph nodes.
// Op-agnostic: every rule comes from the op's own definition.
import { recomputedSegmentOf, replaySegment, type Segment } from "./checkpoint.js";
import { assert, ShapeError } from "./errors.js";
import { topoSort } from "./graph.js";
import { add, expand, reshape, scalar, sum as sumAxes, zeros } from "./ops/index.js";
import { fmtShape, type Shape, shapesEqual } from "./shape.js";
import type { Tensor } from "./tensor.js";
import { withScope } from "./tensor.js";

/** Sums a broadcast gradient back to `shape` (leading axes and axes of size 1). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(axes.length ? sumAxes(g, axes) : g, shape);
}

/**
 * Gradients of the scalar `loss` (or of sum(loss * seed)) with respect to each of `wrt`.
 * Inputs that do not influence the loss get zeros.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!seed && loss.shape.length !== 0) {
    throw new ShapeError("grad", `loss must be a scalar; got ${fmtShape(loss.shape)}`, {
      hint: "reduce the loss with sum() or mean(), or pass a seed of the loss's shape",
    });
  }
  const order = topoSort([loss]);
  const needed = nodesOnPath(order, new Set(wrt));
  const grads = new Map<Tensor, Tensor>();
  grads.set(loss, seed ?? onesLike(loss));
  // Recomputed segments (checkpoint.ts): rules see the replayed node, built at the first
  // gradient that reaches the segment.
  const replays = new Map<Segment, Map<Tensor, Tensor>>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const dout = grads.get(node);
    if (!dout || node.inputs.length === 0 || !needed.has(node)) continue;
    const rule = node.op.grad;
    if (rule === "none") continue;
    const segment = recomputedSegmentOf(node);
    let view = node;
    if (segment) {
      let replay = replays.get(segment);
      if (!replay) {
        replay = replaySegment(segment, dout);
        replays.set(segment, replay);
      }
      view = replay.get(node)!;
    }
    // Backward nodes carry the forward node's module path, under "grad".
    const ins = withScope(node.scope ? `grad.${node.scope}` : "grad", () =>
      rule({ ins: view.inputs, out: view, dout, attrs: node.attrs }),
    );
    node.inputs.forEach((x, k) => {
      let g = ins[k];
      if (!g || !needed.has(x)) return;
      if (node.op.broadcasts) g = sumToShape(g, x.shape);
      assert(
        shapesEqual(g.shape, x.shape),
        `${node.op.name} gradient ${fmtShape(g.shape)} for input ${fmtShape(x.shape)}`,
      );
      const prev = grads.get(x);
      grads.set(x, prev ? add(prev, g) : g);
    });
  }
  return wrt.map((w) => grads.get(w) ?? zeros(w.shape, w.dtype));
}

function nodesOnPath(order: readonly Tensor[], wrt: ReadonlySet<Tensor>): Set<Tensor> {
  const on = new Set<Tensor>();
  for (const node of order) {
    if (wrt.has(node) || node.inputs.some((x) => on.has(x))) on.add(node);
  }
  return on;
}

function onesLike(t: Tensor): Tensor {
  return expand(scalar(1, t.dtype), t.shape);
}
