// The session cache: keyed by the model and its external data (two checkpoints of one
// architecture never share a session), bounded (LRU, dropped sessions released), with per-process
// temporary model files removed on release.
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  constant,
  hostTensor,
  input as imageInput,
  input,
  matmul,
  toNumbers,
} from "../core/index.js";
import { createBackbone } from "../models/backbone.js";
import { VIT_DEFAULTS, type VitOptions } from "../models/presets.js";
import { DinoVisionTransformer } from "../models/vision-transformer.js";
import { bindConstants } from "../nn/module.js";
import { modelFilesDir } from "./model-files.js";
import { createRuntime } from "./session.js";

const OPTS: VitOptions = { ...VIT_DEFAULTS, imgSize: 28, embedDim: 24, depth: 1, numHeads: 2 };
const EXTERNAL = { externalDataFile: "model.onnx.data", maxInlineBytes: 1024 } as const;
const SHAPE = [2, 3, 28, 28];
const PIXELS = hostTensor(
  "float32",
  SHAPE,
  Float32Array.from({ length: 2 * 3 * 28 * 28 }, (_, i) => Math.sin(i)),
);

/**
 * CLS features through a graph with the weights as constants. Checkpoint 2 differs from 1 only in
 * tensors over 1 KiB (the ones that go to external data), as two trainings of a model whose
 * small tensors never moved would; so only the external data tells them apart.
 */
function clsGraph(checkpoint: 1 | 2) {
  const model = new DinoVisionTransformer(OPTS);
  const weights = new Map(createBackbone(OPTS, 1).weights);
  if (checkpoint === 2) {
    for (const [k, w] of weights) {
      if (w.data.byteLength > 1024)
        weights.set(
          k,
          hostTensor(
            "float32",
            w.shape,
            (w.data as Float32Array).map((v) => -v),
          ),
        );
    }
  }
  bindConstants(model, weights);
  return { cls: model.forwardFeatures(imageInput("images", SHAPE)).clsToken };
}

describe("session cache", () => {
  it("two checkpoints of one architecture through external data give their own features", async () => {
    const rt = await createRuntime({ threads: 1 });
    const run = async (seed: 1 | 2, lower = {}) =>
      toNumbers((await (await rt.compile(clsGraph(seed), lower)).run({ images: PIXELS })).cls!);
    const forced = { externalDataFile: "model.onnx.data" }; // every tensor over 1 KiB goes there
    const a = await run(1, forced);
    const b = await run(2, forced);
    expect(rt.cachedSessions).toBe(2);
    expect(a).toEqual(await run(1)); // the same as with the weights inline
    expect(b).toEqual(await run(2));
    expect(b).not.toEqual(a);
    await rt.dispose();
  });

  it("keeps at most maxSessions, releasing the least recently used and its model files", async () => {
    const rt = await createRuntime({ threads: 1, maxSessions: 2 });
    const graph = (k: number) => {
      const w = hostTensor("float32", [512, 1], new Float32Array(512).fill(k));
      return { y: matmul(input("x", [1, 512]), constant(w)) };
    };
    const x = hostTensor("float32", [1, 512], new Float32Array(512).fill(1));
    const exes = [];
    for (let k = 1; k <= 5; k++) {
      const exe = await rt.compile(graph(k), EXTERNAL);
      expect(toNumbers((await exe.run({ x })).y!)).toEqual([512 * k]);
      exes.push(exe);
      expect(rt.cachedSessions).toBe(Math.min(k, 2));
    }
    await new Promise((r) => setTimeout(r, 0)); // evictions release asynchronously
    expect(exes.map((e) => e.released)).toEqual([true, true, true, false, false]);
    await expect(exes[0]!.run({ x })).rejects.toThrow(/dropped from the runtime's session cache/);
    // Only the two live sessions keep model files in this process's own folder.
    const dir = modelFilesDir()!;
    expect(dir).toMatch(new RegExp(`dinov2-ts-${process.pid}-`));
    expect(readdirSync(dir)).toHaveLength(2);
    await rt.dispose();
    expect(readdirSync(dir)).toHaveLength(0);
    expect(existsSync(dir)).toBe(true); // removed when the process exits
  });

  it("a released executable leaves the cache; compiling again makes a new session", async () => {
    const rt = await createRuntime({ threads: 1 });
    const build = () => ({
      y: matmul(input("x", [1, 2]), constant(hostTensor("float32", [2, 1], [1, 2]))),
    });
    const a = await rt.compile(build());
    await a.release();
    expect(rt.cachedSessions).toBe(0);
    const b = await rt.compile(build());
    expect(b).not.toBe(a);
    const out = await b.run({ x: hostTensor("float32", [1, 2], [3, 4]) });
    expect(toNumbers(out.y!)).toEqual([11]);
  });
});
