// Each loss on small inputs with expected values computed independently, so the default suite
// tests the losses without the fixture files. The expected numbers come from this numpy port of
// the official code (dinov2/loss/*.py), run as `python3 loss_expect.py` (numpy 2.4):
//
//   import numpy as np
//   def lsm(x): x=x-x.max(-1,keepdims=True); return x-np.log(np.exp(x).sum(-1,keepdims=True))
//   s=np.array([[1.,2.,0.],[0.5,-1.,2.]]); t=np.array([[0.2,0.3,0.5],[0.6,0.1,0.3]])
//   print("dino", -(t*lsm(s/0.5)).sum(-1).mean())                                    # DINOLoss
//   s=np.array([[1.,0.],[0.,2.],[3.,1.],[9.,-9.]]); t=np.array([[0.5,0.5],[0.25,0.75],[1.,0.],[0.3,0.7]])
//   w=np.array([0.5,0.5,1.,0.])
//   print("ibot", -((t*lsm(s/0.5)).sum(-1)*w).sum()/2)                    # forward_masked
//   x=np.array([[3.,0.],[0.,2.],[1.,1.2]]); z=x/np.maximum(np.linalg.norm(x,axis=1,keepdims=True),1e-8)
//   d=z@z.T; np.fill_diagonal(d,-1); I=d.argmax(1); dist=np.linalg.norm(z-z[I]+1e-8,axis=1)
//   print("koleo", -np.log(dist+1e-8).mean())                                         # KoLeoLoss
//   def sk(to,temp,n=3):                                                 # sinkhorn_knopp_teacher
//       Q=np.exp(to/temp).T; B=Q.shape[1]; K=Q.shape[0]; Q/=Q.sum()
//       for _ in range(n): Q/=Q.sum(1,keepdims=True); Q/=K; Q/=Q.sum(0,keepdims=True); Q/=B
//       return (Q*B).T
//   L=np.array([[1.,0.,2.],[0.,1.,0.],[3.,1.,0.],[0.5,0.5,0.5]])
//   print("sk", sk(L,0.5).ravel().tolist()); print("sk3", sk(L[:3],0.5).ravel().tolist())
import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import {
  constant,
  type HostTensor,
  hostTensor,
  reshape,
  type Tensor,
  toNumbers,
} from "../core/index.js";
import {
  centerUpdate,
  dinoCrossEntropy,
  ibotMaskedLoss,
  koleoLoss,
  sinkhornKnopp,
  softmaxCenter,
} from "./index.js";

const t = (shape: number[], v: number[]) => constant(hostTensor("float32", shape, v));

async function values(y: Tensor): Promise<number[]> {
  const exe = await (await testRuntime()).compile({ y: y.rank === 0 ? reshape(y, [1]) : y });
  const out: Record<string, HostTensor> = await exe.run({});
  return toNumbers(out.y!);
}

function expectAllClose(got: readonly number[], want: readonly number[], tol = 1e-6): void {
  expect(got).toHaveLength(want.length);
  for (const [i, g] of got.entries())
    expect(Math.abs(g - want[i]!), `element ${i}: ${g} vs ${want[i]}`).toBeLessThan(tol);
}

describe("losses on hand-checked inputs", () => {
  it("DINO cross-entropy: -mean_rows sum_k t log_softmax(s / T)", async () => {
    const s = t([2, 3], [1, 2, 0, 0.5, -1, 2]);
    const p = t([2, 3], [0.2, 0.3, 0.5, 0.6, 0.1, 0.3]);
    expectAllClose(await values(dinoCrossEntropy(s, p, 0.5)), [2.4969386960114495]);
  });

  it("padded iBOT: weighted per-token cross-entropy over nImages; padding rows count 0", async () => {
    const s = t([4, 2], [1, 0, 0, 2, 3, 1, 9, -9]);
    const p = t([4, 2], [0.5, 0.5, 0.25, 0.75, 1, 0, 0.3, 0.7]);
    const w = t([4], [0.5, 0.5, 1, 0]);
    expectAllClose(await values(ibotMaskedLoss(s, p, w, 2, 0.5)), [0.5453444486991005]);
  });

  it("KoLeo: -mean log distance to the nearest other normalised row", async () => {
    const x = t([3, 2], [3, 0, 0, 2, 1, 1.2]);
    expectAllClose(await values(koleoLoss(x)), [0.31111104917685095]);
  });

  it("Sinkhorn-Knopp: the official 3 iterations; every row sums to 1", async () => {
    const logits = [1, 0, 2, 0, 1, 0, 3, 1, 0, 0.5, 0.5, 0.5];
    const q = await values(sinkhornKnopp(t([4, 3], logits), 0.5));
    expectAllClose(
      q,
      [
        0.039463075700328726, 0.025707555986335638, 0.9348293683133357, 0.02514270777206512,
        0.8942518247751192, 0.0806054674528157, 0.9123183864809469, 0.08043171396855779,
        0.007249899550495331, 0.11087218818471624, 0.5336806325709315, 0.35544717924435226,
      ],
    );
    for (let r = 0; r < 4; r++) expectAllClose([q[3 * r]! + q[3 * r + 1]! + q[3 * r + 2]!], [1]);
    // Column sums after 3 iterations (numpy: sk(L,0.5).sum(0)): not yet balanced to R/K = 4/3.
    const cols = [0, 1, 2].map((c) => q[c]! + q[3 + c]! + q[6 + c]! + q[9 + c]!);
    expectAllClose(cols, [1.0877963581, 1.5340717273, 1.3781319146], 1e-6);
  });

  it("Sinkhorn-Knopp with a padding row equals the unpadded rows; the padding row is 0", async () => {
    const logits = [1, 0, 2, 0, 1, 0, 3, 1, 0, 0.5, 0.5, 0.5];
    const q = await values(
      sinkhornKnopp(t([4, 3], logits), 0.5, { valid: t([4], [1, 1, 1, 0]), count: 3 }),
    );
    expectAllClose(
      q,
      [
        0.029197388666783022, 0.03726407254618978, 0.9335385387870272, 0.013331608197158024,
        0.9289808785428995, 0.05768751325994272, 0.8449858874858287, 0.14595090673456776,
        0.009063205779603394, 0, 0, 0,
      ],
    );
  });

  it("center EMA and centering: c * m + mean * (1 - m); softmax((t - c) / T)", async () => {
    // By hand: [1, -2, 0.5] * 0.9 + [3, 0, -0.5] * 0.1 = [1.2, -1.8, 0.4].
    const c = t([1, 3], [1, -2, 0.5]);
    expectAllClose(await values(centerUpdate(c, t([3], [3, 0, -0.5]), 0.9)), [1.2, -1.8, 0.4]);
    // By hand: (t - c) / 0.5 = [0, 2 ln 2, 0] -> softmax [1, 4, 1] / 6.
    const logits = t([1, 3], [1, -2 + Math.log(2), 0.5]);
    expectAllClose(await values(softmaxCenter(logits, c, 0.5)), [1 / 6, 4 / 6, 1 / 6]);
  });
});
