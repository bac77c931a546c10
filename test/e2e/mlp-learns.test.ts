// The wiring end to end: a small MLP fits sin(3x) through the core (trace, grad, AdamW as graph
// ops, ONNX Runtime), with all state flowing in and out of one step graph.
import { describe, expect, it } from "vitest";
import {
  add,
  gelu,
  grad,
  type HostTensor,
  hostTensor,
  input,
  matmul,
  mean,
  mul,
  sub,
  type Tensor,
  toNumbers,
} from "../../src/core/index.js";
import { createRuntime } from "../../src/runtime/index.js";
import { adamwUpdate } from "../../src/train/optimizer.js";
import { rand } from "../helpers/op-check.js";

const SHAPES: Record<string, number[]> = {
  w1: [1, 32],
  b1: [32],
  w2: [32, 32],
  b2: [32],
  w3: [32, 1],
  b3: [1],
};

describe("an MLP learns through the core", () => {
  it("fits sin(3x) with AdamW: the loss falls by over 20x", async () => {
    const n = 64;
    const x = input("x", [n, 1]);
    const y = input("y", [n, 1]);
    const lr = input("lr", []);
    const bc1 = input("bc1", []);
    const bc2 = input("bc2", []);
    const p: Record<string, Tensor> = {};
    const m: Record<string, Tensor> = {};
    const v: Record<string, Tensor> = {};
    for (const [k, s] of Object.entries(SHAPES)) {
      p[k] = input(k, s);
      m[k] = input(`m.${k}`, s);
      v[k] = input(`v.${k}`, s);
    }
    const h1 = gelu(add(matmul(x, p.w1!), p.b1!));
    const h2 = gelu(add(matmul(h1, p.w2!), p.b2!));
    const out = add(matmul(h2, p.w3!), p.b3!);
    const diff = sub(out, y);
    const loss = mean(mul(diff, diff));
    const names = Object.keys(SHAPES);
    const grads = grad(
      loss,
      names.map((k) => p[k]!),
    );
    const outputs: Record<string, Tensor> = { loss };
    names.forEach((k, i) => {
      const s = adamwUpdate({ param: p[k]!, m: m[k]!, v: v[k]! }, grads[i]!, {
        lr,
        weightDecay: 0,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        biasCorrection1: bc1,
        biasCorrection2: bc2,
      });
      outputs[`new.${k}`] = s.param;
      outputs[`new.m.${k}`] = s.m;
      outputs[`new.v.${k}`] = s.v;
    });
    const exe = await (await createRuntime({ threads: 1 })).compile(outputs);

    const xs = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
    const state: Record<string, HostTensor> = {
      x: hostTensor("float32", [n, 1], xs),
      y: hostTensor(
        "float32",
        [n, 1],
        xs.map((t) => Math.sin(3 * t)),
      ),
    };
    names.forEach((k, i) => {
      const s = SHAPES[k]!;
      const fanIn = s.length === 2 ? s[0]! : 1;
      state[k] = rand(s, 11 + i, "float32", -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
      state[`m.${k}`] = hostTensor("float32", s);
      state[`v.${k}`] = hostTensor("float32", s);
    });
    const losses: number[] = [];
    for (let t = 1; t <= 400; t++) {
      state.lr = hostTensor("float32", [], [1e-2]);
      state.bc1 = hostTensor("float32", [], [1 - 0.9 ** t]);
      state.bc2 = hostTensor("float32", [], [1 - 0.999 ** t]);
      const r = await exe.run(state);
      losses.push(toNumbers(r.loss!)[0]!);
      for (const k of names) {
        state[k] = r[`new.${k}`]!;
        state[`m.${k}`] = r[`new.m.${k}`]!;
        state[`v.${k}`] = r[`new.v.${k}`]!;
      }
    }
    expect(losses[0]! / losses[losses.length - 1]!).toBeGreaterThan(20);
    expect(losses[losses.length - 1]!).toBeLessThan(0.01);
  });
});
