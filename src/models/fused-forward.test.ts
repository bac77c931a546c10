// The fused inference forward (onnxruntime's Attention, SkipLayerNormalization, BiasGelu; LayerScale
// folded into the weights) against the plain forwardFeatures graph on the same weights and pixels.
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { type HostTensor, hostTensor, input, topoSort } from "../core/index.js";
import { bindConstants } from "../nn/module.js";
import { createBackbone } from "./backbone.js";
import {
  FusedUnsupportedError,
  fusedClsToken,
  fusedForwardFeatures,
  fusedUnsupported,
} from "./fused-forward.js";
import { VIT_DEFAULTS, type VitOptions } from "./presets.js";

/** Official init, then every bias, LayerNorm and LayerScale vector drawn at random: the official
 * init leaves biases at 0 and gammas constant, which would hide a wrong fold. */
function backbone(o: Partial<VitOptions>) {
  const b = createBackbone(
    { ...VIT_DEFAULTS, imgSize: 56, embedDim: 64, numHeads: 4, depth: 3, ...o },
    7,
  );
  let s = 99;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const weights = new Map<string, HostTensor>(b.weights);
  for (const [k, w] of b.weights) {
    if (w.shape.length !== 1) continue;
    const base = /ls\d\.gamma|norm\d?\.weight$/.test(k) ? 1 : 0;
    weights.set(
      k,
      hostTensor(
        "float32",
        w.shape,
        Array.from(w.data as Float32Array, () => base + rand()),
      ),
    );
  }
  return { ...b, weights };
}

function pixels(batch: number, side: number): HostTensor<"float32"> {
  const n = batch * 3 * side * side;
  return hostTensor(
    "float32",
    [batch, 3, side, side],
    Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 2),
  );
}

async function compare(o: Partial<VitOptions>) {
  const b = backbone(o);
  bindConstants(b.model, b.weights);
  const x = input("pixel_values", [2, 3, 56, 56]);
  const plain = b.model.forwardFeatures(x);
  const fused = fusedForwardFeatures(b.model, x);
  const ops = topoSort([fused.clsToken]).map((t) => t.op.name);
  const rt = await testRuntime();
  const feeds = { pixel_values: pixels(2, 56) };
  const pick = (f: typeof plain) => ({
    cls: f.clsToken,
    patches: f.patchTokens,
    regs: f.regTokens,
    pre: f.prenorm,
  });
  const want = await (await rt.compile(pick(plain))).run(feeds);
  const got = await (await rt.compile(pick(fused))).run(feeds);
  const diffs: Record<string, number> = {};
  for (const k of ["cls", "patches", "regs", "pre"]) {
    const a = want[k]!.data as Float32Array;
    const c = got[k]!.data as Float32Array;
    expect(c.length).toBe(a.length);
    diffs[k] = a.reduce((m, v, i) => Math.max(m, Math.abs(v - c[i]!)), 0);
  }
  return { diffs, ops, scale: Math.max(...Array.from(want.cls!.data as Float32Array, Math.abs)) };
}

describe("fusedForwardFeatures", () => {
  it("equals the plain graph within 1e-4 and runs on the fused kernels", async () => {
    const { diffs, ops, scale } = await compare({});
    expect(scale).toBeGreaterThan(0.5); // the features are not all ~0
    for (const d of Object.values(diffs)) expect(d).toBeLessThan(1e-4);
    expect(ops.filter((n) => n === "msAttention")).toHaveLength(3);
    expect(ops.filter((n) => n === "msSkipLayerNorm")).toHaveLength(6);
    expect(ops.filter((n) => n === "msBiasGelu")).toHaveLength(3);
    expect(ops).not.toContain("softmax");
  });

  it("computes the CLS token alone (last block on the CLS row only) within 1e-4", async () => {
    for (const o of [{}, { numRegisterTokens: 4 }]) {
      const b = backbone(o);
      bindConstants(b.model, b.weights);
      const x = input("pixel_values", [2, 3, 56, 56]);
      const rt = await testRuntime();
      const feeds = { pixel_values: pixels(2, 56) };
      const want = (
        await (await rt.compile({ cls: b.model.forwardFeatures(x).clsToken })).run(feeds)
      ).cls!;
      const cls = fusedClsToken(b.model, x);
      expect(cls.shape).toEqual([2, 64]);
      expect(topoSort([cls]).filter((t) => t.op.name === "msMultiHeadAttention")).toHaveLength(1);
      const got = (await (await rt.compile({ cls })).run(feeds)).cls!;
      const a = want.data as Float32Array;
      const g = got.data as Float32Array;
      expect(Math.max(...Array.from(a, Math.abs))).toBeGreaterThan(0.5);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - g[i]!)).toBeLessThan(1e-4);
    }
  });

  it("keeps register tokens and interpolated positions (reg4 layout)", async () => {
    const { diffs } = await compare({
      numRegisterTokens: 4,
      interpolateAntialias: true,
      interpolateOffset: 0,
      imgSize: 84,
    });
    for (const d of Object.values(diffs)) expect(d).toBeLessThan(1e-4);
  });

  it("refuses SwiGLU and bias-free layers by name", () => {
    expect(fusedUnsupported({ ...VIT_DEFAULTS, ffnLayer: "swiglu" })).toMatch(/swiglu/);
    expect(fusedUnsupported({ ...VIT_DEFAULTS, projBias: false })).toMatch(/without bias/);
    const b = createBackbone(
      { ...VIT_DEFAULTS, imgSize: 28, embedDim: 64, numHeads: 4, depth: 1, ffnLayer: "swiglu" },
      0,
    );
    bindConstants(b.model, b.weights);
    expect(() => fusedForwardFeatures(b.model, input("x", [1, 3, 28, 28]))).toThrow(
      FusedUnsupportedError,
    );
  });
});
