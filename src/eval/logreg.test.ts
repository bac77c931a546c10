import { describe, expect, it } from "vitest";
import { testRuntime } from "../../test/helpers/op-check.js";
import { fitLogReg, type LogRegData, lbfgs, logRegScores } from "./logreg.js";
import { LOGREG_C_VALUES, logRegProtocol } from "./logreg-protocol.js";
import { topKAccuracy } from "./metrics.js";

/**
 * 4 overlapping classes in 20 dims: centre ((c·7 + d·3) mod 5 − 2)·0.6, plus 4·(u1 + u2 + u3 − 1.5)
 * with u from the Park–Miller generator; row i has class i mod 4. In Python (exact same floats):
 *   def blobs(n, seed, K=4, D=20):
 *       s = seed; X = np.zeros((n, D)); y = np.zeros(n, dtype=int)
 *       for i in range(n):
 *           c = i % K; y[i] = c
 *           for d in range(D):
 *               u = []
 *               for _ in range(3):
 *                   s = (s * 16807) % 2147483647; u.append(s / 2147483647)
 *               X[i, d] = (((c * 7 + d * 3) % 5) - 2) * 0.6 + 4.0 * (u[0] + u[1] + u[2] - 1.5)
 *       return X, y
 */
function blobs(n: number, seed: number, K = 4, D = 20): LogRegData {
  let s = seed;
  const features = new Float64Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    labels[i] = c;
    for (let d = 0; d < D; d++) {
      const u: number[] = [];
      for (let k = 0; k < 3; k++) {
        s = (s * 16807) % 2147483647;
        u.push(s / 2147483647);
      }
      features[i * D + d] = (((c * 7 + d * 3) % 5) - 2) * 0.6 + 4.0 * (u[0]! + u[1]! + u[2]! - 1.5);
    }
  }
  return { features, labels, dim: D };
}

// scikit-learn 1.2.1 (numpy 1.24.2, scipy 1.10.1), test accuracy in % of
// LogisticRegression(C=C, max_iter=1000).fit(Xtr, ytr) with Xtr, ytr = blobs(120, 12345) and
// Xte, yte = blobs(200, 777) built by the same formula in Python:
//   for C in [1e-6, 1e-4, 1e-2, 1.0, 100.0, 1e4]:
//       m = LogisticRegression(C=C, max_iter=1000).fit(Xtr, ytr)
//       print(C, 100 * (m.predict(Xte) == yte).mean(), 100 * (m.predict(Xtr) == ytr).mean())
// run as /usr/bin/python3 /tmp/sk.py; printed (C, test %, train %, n_iter_ 2, 10, 17, 61, 197, 186):
const SKLEARN: readonly [number, number, number][] = [
  [1e-6, 82.5, 84.17],
  [1e-4, 81.0, 85.0],
  [1e-2, 79.0, 87.5],
  [1.0, 75.0, 96.67],
  [100.0, 74.0, 100.0],
  [1e4, 75.0, 100.0],
];

describe("fitLogReg", () => {
  const train = blobs(120, 12345);
  const test = blobs(200, 777);
  for (const [C, testPct, trainPct] of SKLEARN) {
    it(`matches scikit-learn's accuracy within 0.5 points at C = ${C}`, async () => {
      const rt = await testRuntime();
      const m = await fitLogReg(rt, train, { C, numClasses: 4, maxIter: 1000 });
      const acc = (d: LogRegData) =>
        100 * topKAccuracy(logRegScores(m, d.features), d.labels, 4, 1);
      expect(Math.abs(acc(test) - testPct)).toBeLessThanOrEqual(0.5);
      // At C ≤ 1e-4 scikit-learn stops after 2–10 iterations (its tol on the summed gradient is
      // met while the unpenalised intercepts, which decide ties between near-zero scores, are
      // still moving), so only the better-posed fits are compared on train too.
      if (C >= 1e-2) expect(Math.abs(acc(train) - trainPct)).toBeLessThanOrEqual(0.5);
    });
  }

  it("minimises a quadratic exactly (L-BFGS on a known optimum)", async () => {
    // f(x) = Σ_i (i + 1)(x_i − i)²: minimum 0 at x_i = i.
    const f = async (x: Float64Array): Promise<[number, Float64Array]> => {
      const g = new Float64Array(x.length);
      let v = 0;
      x.forEach((xi, i) => {
        v += (i + 1) * (xi - i) ** 2;
        g[i] = 2 * (i + 1) * (xi - i);
      });
      return [v, g];
    };
    const r = await lbfgs(f, new Float64Array(6), { maxIter: 100, tol: 1e-10, memory: 10 });
    expect(r.converged).toBe(true);
    Array.from(r.x).forEach((xi, i) => {
      expect(xi).toBeCloseTo(i, 8);
    });
  });

  it("refuses a label outside the classes, naming it", async () => {
    const rt = await testRuntime();
    const bad = { ...train, labels: Int32Array.from(train.labels, (y, i) => (i === 7 ? 9 : y)) };
    await expect(fitLogReg(rt, bad, { C: 1, numClasses: 4 })).rejects.toThrow(
      /labels\[7\] is 9; expected a class in \[0, 4\)/,
    );
  });
});

describe("logRegProtocol", () => {
  it("sweeps the official 45 C values from 1e-6 to 1e5", () => {
    expect(LOGREG_C_VALUES).toHaveLength(45);
    expect(LOGREG_C_VALUES[0]).toBeCloseTo(1e-6, 12);
    expect(LOGREG_C_VALUES[44]! / 1e5).toBeCloseTo(1, 5);
    expect(LOGREG_C_VALUES[22]! / 10 ** -0.5).toBeCloseTo(1, 5);
  });

  it("picks C on 10% of train and refits on all of it", async () => {
    const rt = await testRuntime();
    const r = await logRegProtocol(rt, blobs(120, 12345), blobs(200, 777), {
      numClasses: 4,
      cValues: [1e-6, 1e-2, 1e4],
    });
    expect(r.finetuneRows).toBe(12);
    expect(r.sweep.map((p) => p.C)).toEqual([1e-6, 1e-2, 1e4]);
    const best = r.sweep.reduce((b, p) => (p.top1 > b.top1 ? p : b));
    expect(r.bestC).toBe(best.C);
    // The final model is the full-train fit at that C: same accuracy as fitting it directly.
    const direct = await fitLogReg(rt, blobs(120, 12345), { C: r.bestC, numClasses: 4 });
    const test = blobs(200, 777);
    expect(r.top1).toBe(topKAccuracy(logRegScores(direct, test.features), test.labels, 4, 1));
  });
});
