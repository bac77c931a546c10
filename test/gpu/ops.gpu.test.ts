// Every op case on the WebGPU provider in float32 (see test/gpu/README.md): forward cases against
// their literal values, gradients against the CPU provider's float64 gradients.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  createRuntime,
  parseProvider,
  probeProviders,
  type Runtime,
} from "../../src/runtime/index.js";
import { ALL_CASES, CASE_FILES, runOp } from "./op-suite.js";

// DINOV2_GPU_PROVIDER=cuda runs the same suite on CUDA (=cpu is a dry run of the suite itself).
const PROVIDER = parseProvider(process.env.DINOV2_GPU_PROVIDER ?? "webgpu");
const [probe] = await probeProviders([PROVIDER]);

describe(`op suite on ${PROVIDER}`, () => {
  it("lists every *.cases.ts file of src/core/ops", () => {
    const dir = fileURLToPath(new URL("../../src/core/ops/", import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith(".cases.ts"));
    expect(files.sort()).toEqual(Object.keys(CASE_FILES).sort());
  });

  it(`the ${PROVIDER} provider starts`, () => {
    expect(probe!.ok, probe!.detail).toBe(true);
  });

  describe.skipIf(!probe!.ok)("ops", () => {
    let runtimes: Promise<[Runtime, Runtime]> | undefined; // created by the first test that runs
    for (const [op, cases] of Object.entries(ALL_CASES)) {
      it(`${op} matches in float32`, async () => {
        runtimes ??= Promise.all([
          createRuntime({ provider: PROVIDER }),
          createRuntime({ provider: "cpu" }),
        ]);
        const [rt, reference] = await runtimes;
        const r = await runOp(op, cases, rt, reference);
        const bad = r.cases.filter((c) => c.status !== "pass");
        expect(bad, JSON.stringify(bad)).toEqual([]);
      });
    }
  });
});
