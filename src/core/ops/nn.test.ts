// The fused primitives equal their composite formulations in value and gradient.
import { describe, expect, it } from "vitest";
import { rand, testRuntime } from "../../../test/helpers/op-check.js";
import { grad } from "../grad.js";
import { type HostTensor, toNumbers } from "../host-tensor.js";
import type { Tensor } from "../tensor.js";
import { geluComposite, layerNormComposite, softmaxComposite } from "./composite.js";
import { mul } from "./elementwise.js";
import { constant, input } from "./leaf.js";
import { gelu, layerNorm, softmax } from "./nn.js";
import { sum } from "./reduce.js";

type Built = { readonly out: Tensor; readonly wrt: readonly Tensor[] };

/** Runs build(true) (fused) and build(false) (composite) and compares outputs and gradients. */
async function compare(
  build: (fused: boolean) => Built,
  feeds: Record<string, HostTensor>,
  tol = 1e-10,
): Promise<void> {
  const rt = await testRuntime();
  const results: number[][] = [];
  for (const f of [true, false]) {
    const { out, wrt } = build(f);
    const r = constant(rand(out.shape, 3, out.dtype));
    const gs = grad(sum(mul(out, r)), wrt);
    const exe = await rt.compile({ out, ...Object.fromEntries(gs.map((g, i) => [`g${i}`, g])) });
    const res = await exe.run(feeds);
    results.push(
      Object.keys(res)
        .sort()
        .flatMap((k) => toNumbers(res[k]!)),
    );
  }
  const [a, b] = results;
  const err = Math.max(...a!.map((v, i) => Math.abs(v - b![i]!)));
  expect(err).toBeLessThan(tol);
}

describe("fused primitives", () => {
  it("softmax equals the composite softmax, forward and backward", async () => {
    await compare(
      (f) => {
        const x = input("x", [3, 5], "float64");
        return { out: f ? softmax(x, 1) : softmaxComposite(x, 1), wrt: [x] };
      },
      { x: rand([3, 5], 1, "float64", -3, 3) },
    );
  });

  it("gelu equals the composite erf GELU, forward and backward (float32: the fused kernel's type)", async () => {
    await compare(
      (f) => {
        const x = input("x", [4, 8]);
        return { out: f ? gelu(x) : geluComposite(x), wrt: [x] };
      },
      { x: rand([4, 8], 5, "float32", -4, 4) },
      1e-5,
    );
  });

  it("layerNorm equals the composite layer norm, forward and backward", async () => {
    await compare(
      (f) => {
        const x = input("x", [2, 3, 6], "float64");
        const w = input("w", [6], "float64");
        const b = input("b", [6], "float64");
        return {
          out: f ? layerNorm(x, w, b, 1e-6) : layerNormComposite(x, w, b, 1e-6),
          wrt: [x, w, b],
        };
      },
      {
        x: rand([2, 3, 6], 1, "float64", -3, 3),
        w: rand([6], 2, "float64"),
        b: rand([6], 4, "float64"),
      },
    );
  });
});
