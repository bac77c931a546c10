// Graph traversal over traced tensors (each node knows its inputs): the one topological order
// that differentiation, lowering, printing and the dynamic-batch rewrite all walk.
import type { Tensor } from "./tensor.js";

/** Nodes reachable from `outputs`, inputs before users. */
export function topoSort(outputs: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: { t: Tensor; i: number }[] = [];
  for (const root of outputs) {
    if (seen.has(root)) continue;
    seen.add(root);
    stack.push({ t: root, i: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.t.inputs.length) {
        const next = top.t.inputs[top.i++]!;
        if (!seen.has(next)) {
          seen.add(next);
          stack.push({ t: next, i: 0 });
        }
      } else {
        order.push(top.t);
        stack.pop();
      }
    }
  }
  return order;
}
