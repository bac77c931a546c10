// resizeBilinear against torch's F.interpolate(bilinear, align_corners=False), and its gradient.
import { describe, expect, it } from "vitest";
import { gradcheck, rand, runOp } from "../../../test/helpers/op-check.js";
import { hostTensor, toNumbers } from "../host-tensor.js";
import { bilinearWeights } from "../resample.js";
import { resizeBilinear } from "./resize.js";

// x = sin(1.3 · arange(24)).reshape(1, 2, 3, 4), float64. Expected values from (torch 1.13):
//   python3 -c "import torch,torch.nn.functional as F; x=torch.sin(torch.arange(24,dtype=torch.float64)*1.3).reshape(1,2,3,4);
//     print(F.interpolate(x,size=(5,7),mode='bilinear',align_corners=False).flatten().tolist());
//     print(F.interpolate(x,size=(2,3),mode='bilinear',align_corners=False).flatten().tolist())"
const X = hostTensor(
  "float64",
  [1, 2, 3, 4],
  Array.from({ length: 24 }, (_, i) => Math.sin(1.3 * i)),
);
const UP_5x7 = [
  0.0, 0.34412792, 0.8947326, 0.73952978, 0.42955369, -0.25802776, -0.68776616, -0.35338186,
  0.01003413, 0.59149971, 0.68645053, 0.63773684, 0.06988626, -0.28502035, -0.88345466, -0.49110657,
  0.13665037, 0.60683167, 0.95001156, 0.56175728, 0.31909836, -0.85007774, -0.67902932, -0.40535184,
  0.1401877, 0.65638791, 0.69535075, 0.71970252, -0.82782647, -0.80431115, -0.76668665, -0.17090827,
  0.46063882, 0.78441306, 0.98677196, 0.10775365, -0.2625598, -0.85506132, -0.76697842, -0.51837763,
  0.17326391, 0.60553987, 0.43617029, 0.06577767, -0.52685052, -0.67929748, -0.68957695,
  -0.14486526, 0.19557956, 0.92879523, 0.55828387, -0.03453432, -0.54777608, -0.94637594, -0.622059,
  -0.41936092, 0.82905316, 0.69472778, 0.47980718, -0.06689405, -0.59959528, -0.70251596,
  -0.76684138, 0.76255845, 0.7856904, 0.82270151, 0.25369397, -0.36840818, -0.75615393, -0.99849503,
];
const DOWN_2x3 = [
  -0.05464495, 0.70635525, -0.25733138, -0.78772921, 0.02352671, 0.77733816, 0.14017801,
  -0.71217783, 0.17436998, 0.7689875, 0.05332646, -0.79254023,
];

describe("resizeBilinear", () => {
  it("matches torch when upsampling and downsampling", async () => {
    const up = toNumbers(await runOp((x) => resizeBilinear(x!, 5, 7), [X]));
    up.forEach((v, i) => {
      expect(v).toBeCloseTo(UP_5x7[i]!, 6);
    });
    const down = toNumbers(await runOp((x) => resizeBilinear(x!, 2, 3), [X]));
    down.forEach((v, i) => {
      expect(v).toBeCloseTo(DOWN_2x3[i]!, 6);
    });
  });

  it("rows of the weight matrix are the hand-computed ×2 taps", () => {
    // in 2 -> out 4: sources -0.25→0 (clamped), 0.25, 0.75, 1.25 (upper neighbour clamped).
    expect(Array.from(bilinearWeights(2, 4))).toEqual([1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
  });

  it("has the gradient of finite differences", async () => {
    const r = await gradcheck((x) => resizeBilinear(x!, 5, 3), [rand([2, 1, 3, 4], 3)]);
    expect(r.ok, r.worst).toBe(true);
  });

  it("refuses a rank-1 input or a zero size", async () => {
    const { input } = await import("./leaf.js");
    expect(() => resizeBilinear(input("v", [4]), 2, 2)).toThrow(/resizeBilinear/);
    expect(() => resizeBilinear(input("v", [2, 4]), 0, 2)).toThrow(/positive integer sizes/);
  });
});
