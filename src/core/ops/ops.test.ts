// Every primitive: shape cases, a forward run on literal values through ONNX Runtime, and a
// finite-difference gradient check; plus the completeness test that makes all three mandatory.
import { describe, expect, it } from "vitest";
import { gradcheck, runOp } from "../../../test/helpers/op-check.js";
import { toNumbers } from "../host-tensor.js";
import type { OpCases } from "./cases.js";
import { ELEMENTWISE_CASES } from "./elementwise.cases.js";
import { PRIMITIVES } from "./index.js";
import { LEAF_CASES } from "./leaf.cases.js";
import { LINALG_CASES } from "./linalg.cases.js";
import { MOVEMENT_CASES } from "./movement.cases.js";
import { NN_CASES } from "./nn.cases.js";
import { REDUCE_CASES } from "./reduce.cases.js";

const CASES: Readonly<Record<string, OpCases>> = {
  ...LEAF_CASES,
  ...ELEMENTWISE_CASES,
  ...REDUCE_CASES,
  ...MOVEMENT_CASES,
  ...LINALG_CASES,
  ...NN_CASES,
};

describe("op completeness", () => {
  it("every primitive has shape, forward and gradient cases", () => {
    const missing: string[] = [];
    for (const def of PRIMITIVES) {
      const c = CASES[def.name];
      if (!c) missing.push(`${def.name}: no cases`);
      else {
        if (c.shapes.length === 0) missing.push(`${def.name}: no shape case`);
        if (c.forward.length === 0) missing.push(`${def.name}: no forward case`);
        if (c.grad === "none" && def.grad !== "none")
          missing.push(`${def.name}: has a gradient rule but no gradcheck`);
        if (c.grad !== "none" && c.grad.length === 0)
          missing.push(`${def.name}: no gradcheck case`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("there are no cases for ops that do not exist", () => {
    const names = new Set(PRIMITIVES.map((d) => d.name));
    expect(Object.keys(CASES).filter((n) => !names.has(n))).toEqual([]);
  });
});

for (const [name, cases] of Object.entries(CASES)) {
  describe(name, () => {
    cases.shapes.forEach((sc, i) => {
      it(
        sc.error ? `rejects bad shapes (case ${i})` : `infers shape ${JSON.stringify(sc.shape)}`,
        () => {
          if (sc.error) expect(() => sc.build()).toThrow(sc.error);
          else expect(sc.build().shape).toEqual(sc.shape);
        },
      );
    });
    cases.forward.forEach((fc, i) => {
      it(`computes literal values (case ${i})`, async () => {
        const y = await runOp(fc.build, fc.inputs);
        expect(y.shape).toEqual(fc.shape);
        const got = toNumbers(y);
        const tol = fc.tol ?? 1e-12;
        got.forEach((v, j) => {
          expect(
            Math.abs(v - fc.expected[j]!),
            `element ${j}: got ${v}, expected ${fc.expected[j]}`,
          ).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(fc.expected[j]!)));
        });
        expect(got.length).toBe(fc.expected.length);
      });
    });
    if (cases.grad !== "none") {
      cases.grad.forEach((gc, i) => {
        it(`gradient matches finite differences (case ${i})`, async () => {
          const r = await gradcheck(gc.build, gc.inputs, {
            ...(gc.wrt ? { wrt: gc.wrt } : {}),
            ...(gc.eps ? { eps: gc.eps } : {}),
            ...(gc.atol ? { atol: gc.atol } : {}),
            ...(gc.rtol ? { rtol: gc.rtol } : {}),
          });
          expect(r.ok, r.worst).toBe(true);
        });
      });
    }
  });
}
