// The runtime boundary: provider choice, checked feeds, one session per graph hash.
import { describe, expect, it } from "vitest";
import { add, constant, hostTensor, input, matmul } from "../core/index.js";
import { parseProvider } from "./device.js";
import { createRuntime } from "./session.js";

describe("runtime", () => {
  it("reuses the session of an identical graph", async () => {
    const rt = await createRuntime({ threads: 1 });
    const build = () => {
      const x = input("x", [2]);
      return { y: add(x, 1) };
    };
    const a = await rt.compile(build());
    const b = await rt.compile(build());
    expect(a).toBe(b);
    expect(rt.cachedSessions).toBe(1);
    const out = await a.run({ x: hostTensor("float32", [2], [1, 2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 3]);
  });

  it("refuses a feed of the wrong shape, naming it", async () => {
    const rt = await createRuntime({ threads: 1 });
    const x = input("x", [2]);
    const exe = await rt.compile({ y: add(x, 1) });
    await expect(
      exe.run({ x: hostTensor("float32", [3], [1, 2, 3]) }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[FeedError: feed "x": got float32[3], expected float32[2]]`,
    );
    await expect(exe.run({})).rejects.toThrowErrorMatchingInlineSnapshot(
      `[FeedError: missing feed "x" (float32[2]); the graph takes: x]`,
    );
  });

  it("runs a graph whose constants exceed the inline limit from external data", async () => {
    const rt = await createRuntime({ threads: 1 });
    const x = input("x", [1, 512]);
    const w = constant(
      hostTensor(
        "float32",
        [512, 2],
        Float32Array.from({ length: 1024 }, (_, i) => (i % 2 ? 1 : 0)),
      ),
    );
    const exe = await rt.compile({ y: matmul(x, w) }, { maxInlineBytes: 1024 });
    const out = await exe.run({
      x: hostTensor("float32", [1, 512], new Float32Array(512).fill(1)),
    });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 512]);
  });

  it("rejects an unknown provider with the list of known ones", () => {
    expect(() => parseProvider("tpu")).toThrowErrorMatchingInlineSnapshot(
      `[ProviderError: unknown execution provider "tpu"; expected one of cpu, webgpu, cuda]`,
    );
  });

  // CI and development machines have no GPU; where one exists the test does not apply.
  it.skipIf(process.env.DINOV2_HAS_GPU)(
    "fails on a provider that does not start here, listing those that do",
    async () => {
      await expect(createRuntime({ provider: "cuda" })).rejects.toThrow(
        /execution provider "cuda" is not available here .*; available: cpu/,
      );
    },
  );
});
