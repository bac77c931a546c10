// Does the core cost anything? (a) a ViT-S/14 block, forward and forward+backward, through our
// Runtime against the same ONNX bytes in a plain onnxruntime-node session; (b) its FLOP rate as a
// share of a MatMul ceiling measured in the same run; (c) seconds to trace, differentiate and
// serialise the full ViT-S/14 and ViT-g/14 training graphs.
import * as ort from "onnxruntime-node";
import {
  grad,
  type HostTensor,
  hostTensor,
  input,
  matmul,
  sum,
  type Tensor,
  topoSort,
  withScope,
} from "../src/core/index.js";
import { initWeights } from "../src/models/backbone.js";
import { type VitPreset, vitOptions } from "../src/models/presets.js";
import { DinoVisionTransformer } from "../src/models/vision-transformer.js";
import { Block } from "../src/nn/block.js";
import { bindInputs } from "../src/nn/module.js";
import { type LoweredModel, lowerToOnnx } from "../src/onnx/index.js";
import { createRuntime, type Runtime } from "../src/runtime/index.js";
import {
  type Bench,
  type BenchContext,
  interleave,
  round3,
  type Timing,
  type TimingOptions,
} from "./harness.js";

/** ViT-S/14 at 224²: 16² patches + cls = 257 tokens; batch 32. */
const B = 32;
const N = 257;
const D = 384;
const H = 6;
const T = B * N;
const BLOCK_TIMING = { burnIn: 2, iters: 8 } as const;
const MATMUL_TIMING = { burnIn: 2, iters: 8 } as const;

export const bench: Bench = {
  provider: "cpu",
  question:
    "does our runtime layer cost anything, how close is a block to MatMul speed, how long do training graphs take to build?",
  run: async (ctx) => {
    const rt = await createRuntime({ provider: "cpu" }); // onnxruntime's default threads, as the plain session
    const block = await blockFigures(rt, ctx);
    const ceiling = await matmulCeiling(rt, ctx);
    const vits = await trainGraphBuild("vits14", { burnIn: 1, iters: 3 }, ctx);
    const vitg = await trainGraphBuild("vitg14", { burnIn: 0, iters: 1 }, ctx); // JIT warmed by vits14
    const flops = blockFlops();
    // Best run against best run: the MatMul ceiling is a fastest run too.
    const rate = flops.fwdBwd / (block.fwdBwd.ours.minMs * 1e6);
    return {
      block_fwd_bwd_vs_ort: round3(block.fwdBwd.plain.medianMs / block.fwdBwd.ours.medianMs),
      block_fwd_ms: round3(block.fwd.ours.medianMs),
      block_fwd_bwd_ms: round3(block.fwdBwd.ours.medianMs),
      block_fwd_bwd_flop_share: round3(rate / ceiling.gflops),
      matmul_ceiling_gflops: Math.round(ceiling.gflops),
      vits14_train_graph_build_s: vits.total_s,
      vitg14_train_graph_build_s: vitg.total_s,
      details: {
        block: { batch: B, tokens: N, dim: D, heads: H, fwd: block.fwd, fwd_bwd: block.fwdBwd },
        block_fwd_vs_ort: round3(block.fwd.plain.medianMs / block.fwd.ours.medianMs),
        block_fwd_gflop: round3(flops.fwd / 1e9),
        block_fwd_bwd_gflop: round3(flops.fwdBwd / 1e9),
        block_fwd_bwd_gflops: Math.round(rate),
        matmul: ceiling,
        vits14_train_graph: vits,
        vitg14_train_graph: vitg,
      },
    };
  },
};

interface Pair {
  readonly ours: Timing;
  readonly plain: Timing;
}

/** (a) forward and forward+backward of one block: our Executable vs a plain session, interleaved. */
async function blockFigures(rt: Runtime, ctx: BenchContext): Promise<{ fwd: Pair; fwdBwd: Pair }> {
  const block = new Block({
    dim: D,
    numHeads: H,
    mlpRatio: 4,
    ffnLayer: "mlp",
    layerscale: 1e-5,
    qkvBias: true,
    projBias: true,
    ffnBias: true,
    eps: 1e-6,
  });
  const params = bindInputs(block, "blocks.0.");
  const x = input("x", [T, D]);
  const y = withScope("blocks.0", () => block.forward(x, [{ batch: B, tokens: N }]));
  const dy = input("dy", [T, D]);
  const wrt = [x, ...params.values()];
  const grads = grad(y, wrt, dy);
  const bwdOutputs: Record<string, Tensor> = { y };
  ["x", ...params.keys()].forEach((k, i) => {
    bwdOutputs[`grad.${k}`] = grads[i]!;
  });
  const feeds: Record<string, HostTensor> = {
    x: randomTensor([T, D], 1),
    dy: randomTensor([T, D], 2),
  };
  for (const [k, w] of initWeights(block, 0)) feeds[`blocks.0.${k}`] = w;
  ctx.log("block forward: ours vs plain onnxruntime-node");
  const fwd = await compare(rt, lowerToOnnx({ y }), feeds);
  ctx.log(
    `  ours ${fwd.ours.medianMs.toFixed(1)} ms, plain ${fwd.plain.medianMs.toFixed(1)} ms (median)`,
  );
  ctx.log("block forward+backward: ours vs plain onnxruntime-node");
  const fwdBwd = await compare(rt, lowerToOnnx(bwdOutputs), feeds);
  ctx.log(
    `  ours ${fwdBwd.ours.medianMs.toFixed(1)} ms, plain ${fwdBwd.plain.medianMs.toFixed(1)} ms (median)`,
  );
  return { fwd, fwdBwd };
}

/** The same bytes and the same feeds through our Runtime and through a default InferenceSession. */
async function compare(
  rt: Runtime,
  model: LoweredModel,
  allFeeds: Readonly<Record<string, HostTensor>>,
): Promise<Pair> {
  const feeds = Object.fromEntries(Object.entries(allFeeds).filter(([k]) => model.inputs.has(k)));
  const exe = await rt.load(model);
  const session = await ort.InferenceSession.create(model.bytes);
  const ortFeeds = Object.fromEntries(
    Object.entries(feeds).map(([k, t]) => [
      k,
      new ort.Tensor("float32", t.data as Float32Array, [...t.shape]),
    ]),
  );
  const t = await interleave(
    { ours: () => exe.run(feeds), plain: () => session.run(ortFeeds) },
    BLOCK_TIMING,
  );
  await session.release();
  return { ours: t.ours!, plain: t.plain! };
}

/** Matmul FLOPs of the block: fwd = 2·T·(D·3D + D·D + 2·D·4D) + 4·B·H·N²·Dh; backward ≈ 2× fwd. */
function blockFlops(): { fwd: number; fwdBwd: number } {
  const fwd = 2 * T * (D * 3 * D + D * D + 2 * D * 4 * D) + 4 * B * H * N * N * (D / H);
  return { fwd, fwdBwd: 3 * fwd };
}

interface Ceiling {
  readonly gflops: number;
  readonly shape: string;
  readonly by_graph: Readonly<Record<string, { gflops: number; median_ms: number }>>;
}

/**
 * (b) MatMul ceiling, best of two graphs: four [4096,1536]@[1536,384] products with distinct
 * weights (the best case), and a dependent chain through the block's MLP shapes.
 */
async function matmulCeiling(rt: Runtime, ctx: BenchContext): Promise<Ceiling> {
  const m = 4096;
  const x = input("x", [m, 4 * D]);
  const ws = [0, 1, 2, 3].map((i) => input(`w${i}`, [4 * D, D]));
  const independent: Record<string, Tensor> = {};
  ws.forEach((w, i) => {
    independent[`y${i}`] = matmul(x, w);
  });
  const h0 = input("h0", [m, D]);
  const up = input("up", [D, 4 * D]);
  const down = input("down", [4 * D, D]);
  let h: Tensor = h0;
  for (let i = 0; i < 4; i++) h = matmul(matmul(h, up), down);
  const scale = 1 / Math.sqrt(4 * D);
  const feeds: Record<string, HostTensor> = {
    x: randomTensor([m, 4 * D], 3),
    h0: randomTensor([m, D], 4),
    up: randomTensor([D, 4 * D], 5, scale * 2),
    down: randomTensor([4 * D, D], 6, scale),
  };
  ws.forEach((_, i) => {
    feeds[`w${i}`] = randomTensor([4 * D, D], 10 + i, scale);
  });
  const graphs = {
    "4x 4096x1536x384": { outputs: independent, flops: 4 * 2 * m * 4 * D * D },
    "mlp chain 4x (4096x384x1536, 4096x1536x384)": { outputs: { h }, flops: 8 * 2 * m * 4 * D * D },
  };
  const by: Record<string, { gflops: number; median_ms: number }> = {};
  for (const [name, g] of Object.entries(graphs)) {
    const model = lowerToOnnx(g.outputs);
    const exe = await rt.load(model);
    const mine = Object.fromEntries(Object.entries(feeds).filter(([k]) => model.inputs.has(k)));
    const t = (await interleave({ run: () => exe.run(mine) }, MATMUL_TIMING)).run!;
    by[name] = { gflops: Math.round(g.flops / (t.minMs * 1e6)), median_ms: round3(t.medianMs) };
    ctx.log(`MatMul ${name}: ${by[name]!.gflops} GFLOP/s (fastest run)`);
  }
  const [shape, best] = Object.entries(by).sort((a, b) => b[1].gflops - a[1].gflops)[0]!;
  return { gflops: best.gflops, shape, by_graph: by };
}

interface GraphBuild {
  readonly total_s: number;
  readonly trace_s: number;
  readonly grad_s: number;
  readonly lower_s: number;
  readonly nodes: number;
  readonly params: number;
  readonly onnx_mb: number;
  readonly runs: number;
}

/** (c) trace forwardFeatures (batch 1, 224²), grad of sum(cls) wrt every parameter, lower to ONNX. */
async function trainGraphBuild(
  preset: VitPreset,
  o: TimingOptions,
  ctx: BenchContext,
): Promise<GraphBuild> {
  const samples: GraphBuild[] = [];
  for (let r = 0; r < o.burnIn + o.iters; r++) {
    const model = new DinoVisionTransformer(vitOptions(preset)); // parameters are inputs: no weights
    const t0 = performance.now();
    const params = bindInputs(model);
    const f = model.forwardFeatures(input("images", [1, 3, 224, 224]));
    const loss = sum(f.clsToken);
    const t1 = performance.now();
    const keys = [...params.keys()];
    const grads = grad(
      loss,
      keys.map((k) => params.get(k)!),
    );
    const t2 = performance.now();
    const outputs: Record<string, Tensor> = { loss };
    keys.forEach((k, i) => {
      outputs[`grad.${k}`] = grads[i]!;
    });
    const lowered = lowerToOnnx(outputs);
    const t3 = performance.now();
    if (r < o.burnIn) continue;
    samples.push({
      total_s: round3((t3 - t0) / 1000),
      trace_s: round3((t1 - t0) / 1000),
      grad_s: round3((t2 - t1) / 1000),
      lower_s: round3((t3 - t2) / 1000),
      nodes: topoSort(Object.values(outputs)).length,
      params: keys.length,
      onnx_mb: round3(lowered.bytes.length / 2 ** 20),
      runs: o.iters,
    });
  }
  const median = [...samples].sort((a, b) => a.total_s - b.total_s)[samples.length >> 1]!;
  ctx.log(
    `${preset} train graph: ${median.total_s.toFixed(2)} s (trace ${median.trace_s}, grad ${median.grad_s}, lower ${median.lower_s}; ${median.nodes} nodes)`,
  );
  return median;
}

/** Values in [-amp, amp), xorshift32: fast for millions of elements. */
function randomTensor(shape: readonly number[], seed: number, amp = 1): HostTensor<"float32"> {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * amp;
  }
  return hostTensor("float32", shape, data);
}
