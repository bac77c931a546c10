// The paper's efficient implementation equals the plain formulation: sequence packing (all crop
// groups through the linear layers as one matrix), efficient stochastic depth (residual computed
// on the kept samples only, scaled B/subset), and chunked (memory-efficient) attention.
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { type HostTensor, hostTensor, input, type Tensor, toNumbers } from "../core/index.js";
import { bindConstants } from "../nn/module.js";
import { dropPlan, sampleDropRows } from "../train/drop-path.js";
import { createBackbone } from "./backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "./presets.js";
import { DinoVisionTransformer } from "./vision-transformer.js";

const OPTS: VitOptions = {
  ...VIT_DEFAULTS,
  imgSize: 56,
  embedDim: 48,
  depth: 2,
  numHeads: 3,
  layerscale: 0.5,
};

function images(shape: number[], seed: number): HostTensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const next = () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  };
  return hostTensor("float32", shape, Float32Array.from({ length: n }, next));
}

async function run(outputs: Record<string, Tensor>, feeds: Record<string, HostTensor>) {
  const exe = await (await testRuntime()).compile(outputs);
  return exe.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => exe.inputs.has(k))));
}

function maxDiff(a: HostTensor, b: HostTensor): number {
  const x = toNumbers(a);
  const y = toNumbers(b);
  expect(x.length).toBe(y.length);
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
}

describe("efficient implementation", () => {
  const { weights } = createBackbone(OPTS, 3);
  const g = images([2, 3, 56, 56], 1);
  const l = images([4, 3, 28, 28], 2);

  it("sequence packing: crop groups packed together equal separate forward passes", async () => {
    const packed = new DinoVisionTransformer(OPTS);
    bindConstants(packed, weights);
    const [pg, pl] = packed.forwardFeaturesList([
      { images: input("g", g.shape) },
      { images: input("l", l.shape) },
    ]);
    const sep = new DinoVisionTransformer(OPTS);
    bindConstants(sep, weights);
    const sg = sep.forwardFeatures(input("g", g.shape));
    const sl = sep.forwardFeatures(input("l", l.shape));
    const r = await run(
      { pg: pg!.prenorm, pl: pl!.prenorm, sg: sg.prenorm, sl: sl.prenorm },
      { g, l },
    );
    expect(maxDiff(r.pg!, r.sg!)).toBeLessThan(1e-5);
    expect(maxDiff(r.pl!, r.sl!)).toBeLessThan(1e-5);
  });

  it("efficient stochastic depth: kept samples get the residual scaled by B/subset, dropped ones none", async () => {
    const model = new DinoVisionTransformer({ ...OPTS, depth: 1 });
    const w1 = new Map([...weights].filter(([k]) => !k.startsWith("blocks.1.")));
    bindConstants(model, w1);
    const groups = [{ batch: 2, tokens: 17 }];
    const plan = dropPlan(groups, [0.5]); // keeps max(int(2 * 0.5), 1) = 1 sample per branch
    const [f] = model.forwardFeaturesList([{ images: input("g", g.shape) }], plan.blocks);
    // Reference: sample s's blocks with LayerScale doubled (B/subset = 2), the other untouched.
    const doubled = new Map(w1);
    for (const k of ["blocks.0.ls1.gamma", "blocks.0.ls2.gamma"]) {
      doubled.set(
        k,
        hostTensor(
          "float32",
          [48],
          toNumbers(w1.get(k)!).map((v) => 2 * v),
        ),
      );
    }
    const ref = new DinoVisionTransformer({ ...OPTS, depth: 1 });
    bindConstants(ref, doubled);
    const full = ref.forwardFeatures(input("g", g.shape));
    const noBlocks = new DinoVisionTransformer({ ...OPTS, depth: 0 });
    bindConstants(noBlocks, w1);
    const tokens = noBlocks.forwardFeatures(input("g", g.shape));
    const rows = hostTensor(
      "int64",
      [17],
      BigInt64Array.from({ length: 17 }, (_, t) => BigInt(17 + t)),
    ); // sample 1
    const r = await run(
      { got: f!.prenorm, kept: full.prenorm, dropped: tokens.prenorm },
      {
        g,
        "drop.blocks.0.attn": rows,
        "drop.blocks.0.ffn": rows,
      },
    );
    const got = toNumbers(r.got!);
    const kept = toNumbers(r.kept!);
    const dropped = toNumbers(r.dropped!);
    const n = 17 * 48;
    const err0 = Math.max(...got.slice(0, n).map((v, i) => Math.abs(v - dropped[i]!)));
    const err1 = Math.max(...got.slice(n).map((v, i) => Math.abs(v - kept[n + i]!)));
    expect(err0).toBeLessThan(1e-6);
    expect(err1).toBeLessThan(1e-5);
  });

  it("drop rows are whole samples drawn per group", () => {
    const plan = dropPlan(
      [
        { batch: 4, tokens: 3 },
        { batch: 8, tokens: 2 },
      ],
      [0.3],
    );
    let k = 0;
    const rows = Array.from(
      sampleDropRows(plan.inputs[0]!, () => [0.9, 0.1, 0.5, 0.7, 0.3][k++ % 5]!),
      Number,
    );
    expect(rows.length).toBe(2 * 3 + 5 * 2); // int(4 * 0.7) = 2 and int(8 * 0.7) = 5 samples
    const samples = new Set(rows.slice(0, 6).map((r) => Math.floor(r / 3)));
    expect(samples.size).toBe(2);
    expect(rows.slice(6).every((r) => r >= 12 && r < 28)).toBe(true);
  });

  it("chunked attention equals full attention", async () => {
    const full = new DinoVisionTransformer(OPTS);
    bindConstants(full, weights);
    const chunked = new DinoVisionTransformer({ ...OPTS, queryChunk: 5 });
    bindConstants(chunked, weights);
    const a = full.forwardFeatures(input("g", g.shape));
    const b = chunked.forwardFeatures(input("g", g.shape));
    const r = await run({ a: a.prenorm, b: b.prenorm }, { g });
    expect(maxDiff(r.a!, r.b!)).toBeLessThan(1e-5);
  });
});
