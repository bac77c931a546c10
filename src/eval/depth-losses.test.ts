// SigLoss, GradientLoss and the linear depth head's forward against torch, and their gradients.
import { describe, expect, it } from "vitest";
import { gradcheck, randomValues, runOp } from "../../test/helpers/op-check.js";
import { add, constant, hostTensor, toNumbers } from "../core/index.js";
import { depthFromFeatures } from "./depth-head.js";
import { gradientLoss, sigLoss, validDepthMask } from "./depth-losses.js";

// Expected values: `python3 test/reference/dense_eval_reference.py` (torch 1.13, float64): the
// official SigLoss body on pred/gt below with valid = gt > 0 & gt <= 10, the official
// gradientloss() body on 2-D maps, and the official depth head order (upsample ×4, 1×1 conv,
// relu + 0.1, normalise, einsum with linspace(0.001, 10, 5)).
const PRED = [0.5, 1.2, 2.0, 3.1, 4.0, 0.9, 7.5, 2.2, 1.1, 5.5, 9.0, 0.3];
const GT = [0.6, 1.0, 0.0, 3.0, 4.4, 1.1, 12.0, 2.0, 1.0, 0.0, 8.0, 0.35];
const SIGLOSS = 0.14626270760179433;
const SIGLOSS_WARM = 0.004657639446497321;
const GRADLOSS = 2.967162602707535;
const DEPTH_ROW0 = [
  3.5459028059, 3.5459028059, 3.6006185511, 3.6116084124, 3.5804799904, 3.5814688329, 3.582136973,
  3.582136973,
];
const DEPTH_ROW7 = [
  4.1215794845, 4.1215794845, 4.015633607, 3.8404889427, 3.7016462196, 3.5888788932, 3.5400809335,
  3.5400809335,
];

const f64 = (shape: number[], v: readonly number[]) => hostTensor("float64", shape, v);
const depthMap = (seed: number) => randomValues(63, seed).map((v) => 0.5 + Math.abs(v) * 5);

describe("depth losses", () => {
  it("SigLoss and its warm-up form match torch over the valid pixels", async () => {
    const plain = await runOp(
      (p, g) => sigLoss(p!, g!, validDepthMask(g!, 10)),
      [f64([1, 3, 4], PRED), f64([1, 3, 4], GT)],
    );
    expect(toNumbers(plain)[0]).toBeCloseTo(SIGLOSS, 10);
    const warm = await runOp(
      (p, g, w) => sigLoss(p!, g!, validDepthMask(g!, 10), w),
      [f64([1, 3, 4], PRED), f64([1, 3, 4], GT), f64([], [1])],
    );
    expect(toNumbers(warm)[0]).toBeCloseTo(SIGLOSS_WARM, 10);
  });

  it("GradientLoss matches the official body on a 7×9 map with invalid pixels", async () => {
    const gt = depthMap(12);
    for (const i of [1 * 9 + 2, 4 * 9 + 4, 6 * 9 + 0]) gt[i] = 0;
    const out = await runOp(
      (p, g) => gradientLoss(p!, g!, validDepthMask(g!)),
      [f64([1, 7, 9], depthMap(11)), f64([1, 7, 9], gt)],
    );
    expect(toNumbers(out)[0]).toBeCloseTo(GRADLOSS, 10);
  });

  it("gradients of SigLoss + GradientLoss match finite differences", async () => {
    const gt = f64([1, 3, 4], GT);
    const r = await gradcheck(
      (p) => {
        const g = constant(gt);
        const m = validDepthMask(g, 10);
        return add(sigLoss(p!, g, m), gradientLoss(p!, g, m));
      },
      [f64([1, 3, 4], PRED)],
    );
    expect(r.ok, r.worst).toBe(true);
  });

  it("the linear head's depth equals the official upsample-then-conv order", async () => {
    const out = await runOp(
      (x, w, b) => depthFromFeatures(x!, w!, b!, { minDepth: 0.001, maxDepth: 10 }),
      [
        f64([1, 4, 2, 2], randomValues(16, 31)),
        f64([5, 4], randomValues(20, 32)),
        f64([5], randomValues(5, 33)),
      ],
    );
    const d = toNumbers(out);
    expect(out.shape).toEqual([1, 8, 8]);
    d.slice(0, 8).forEach((v, i) => {
      expect(v).toBeCloseTo(DEPTH_ROW0[i]!, 8);
    });
    d.slice(56, 64).forEach((v, i) => {
      expect(v).toBeCloseTo(DEPTH_ROW7[i]!, 8);
    });
  });
});
