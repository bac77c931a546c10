// Activation recomputation: the recomputed backward gives the plain gradients bit for bit, the
// replay is really in the graph (and after the incoming gradient), and the budget planner.
import { describe, expect, it } from "vitest";
import { randomValues, testRuntime } from "../../test/helpers/op-check.js";
import { planRecompute, recomputeInBackward, type Segment, traceSegment } from "./checkpoint.js";
import { grad } from "./grad.js";
import { topoSort } from "./graph.js";
import { type HostTensor, hostTensor } from "./host-tensor.js";
import { add, exp, input, matmul, mul, softmax, sum, tanh } from "./ops/index.js";
import type { Tensor } from "./tensor.js";

const N = 5;
const D = 4;

/** Three residual "blocks" h + softmax(tanh(h W)) * exp(h) W'; loss sum(h^2). */
function build(recompute: boolean) {
  const x = input("x", [N, D]);
  const ws = [0, 1, 2].map((i) => input(`w${i}`, [D, D]));
  const segments: Segment[] = [];
  let h = x;
  for (const w of ws) {
    const block = (hin: Tensor) =>
      add(hin, matmul(mul(softmax(tanh(matmul(hin, w))), exp(hin)), w));
    const seg = traceSegment([h], ([hin]) => [block(hin!)]);
    segments.push(seg);
    h = seg.outputs[0]!;
  }
  if (recompute) for (const s of segments) recomputeInBackward(s);
  const grads = grad(sum(mul(h, h)), [x, ...ws]);
  return { grads, segments };
}

function feeds(): Record<string, HostTensor> {
  const f: Record<string, HostTensor> = {
    x: hostTensor("float32", [N, D], randomValues(N * D, 7)),
  };
  for (let i = 0; i < 3; i++)
    f[`w${i}`] = hostTensor("float32", [D, D], randomValues(D * D, 11 + i));
  return f;
}

async function run(recompute: boolean): Promise<Float32Array[]> {
  const { grads } = build(recompute);
  const exe = await (await testRuntime()).compile(
    Object.fromEntries(grads.map((g, i) => [`g${i}`, g])),
  );
  const out = await exe.run(feeds());
  return grads.map((_, i) => out[`g${i}`]!.data as Float32Array);
}

describe("activation recomputation", () => {
  it("gives the plain gradients bit for bit", async () => {
    const plain = await run(false);
    const recomputed = await run(true);
    expect(plain.length).toBe(4);
    for (let i = 0; i < plain.length; i++) {
      expect(plain[i]!.some((v) => v !== 0)).toBe(true);
      expect(Array.from(recomputed[i]!)).toEqual(Array.from(plain[i]!));
    }
  });

  it("replays each block's forward in the backward, after the gradient reaching it", () => {
    const count = (ts: Tensor[], op: string) => topoSort(ts).filter((t) => t.op.name === op).length;
    const plain = build(false).grads;
    const { grads, segments } = build(true);
    // Each block has one tanh; the replay adds one per block, none for the plain graph.
    expect(count(plain, "tanh")).toBe(3);
    expect(count(grads, "tanh")).toBe(6);
    // The rules read the replayed values, not the forward ones: no backward node uses a forward
    // tanh (only the forward softmax does).
    const forwardTanh = new Set(
      segments.flatMap((s) => s.nodes.filter((t) => t.op.name === "tanh")),
    );
    const users = topoSort(grads).filter((t) => t.inputs.some((x) => forwardTanh.has(x)));
    expect(users.map((t) => t.op.name)).toEqual(["softmax", "softmax", "softmax"]);
    // Each replayed tanh depends on an incoming gradient (the value is only there in backward).
    const replayed = topoSort(grads).filter((t) => t.op.name === "tanh" && !forwardTanh.has(t));
    for (const t of replayed) expect(t.scope.startsWith("recompute")).toBe(true);
  });

  it("records the segment's nodes and their bytes", () => {
    const { segments } = build(false);
    // matmul, tanh, softmax, exp, mul, matmul, add: 7 nodes of [5, 4] float32 each.
    expect(segments[0]!.nodes.length).toBe(7);
    expect(segments[0]!.bytes).toBe(7 * N * D * 4);
  });

  it("plans by budget: the last segments are kept while they fit", () => {
    const seg = (bytes: number) => ({ inputs: [], outputs: [], nodes: [], bytes }) as Segment;
    const s = [seg(10), seg(10), seg(10)];
    expect(planRecompute(s, 0)).toEqual(s);
    expect(planRecompute(s, 25)).toEqual([s[0]]);
    expect(planRecompute(s, 30)).toEqual([]);
  });
});
