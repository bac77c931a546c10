// Activation recomputation in the whole training iteration: with every student block recomputed
// in the backward pass (core/checkpoint.ts), each output of the step (losses, raw gradients,
// weights after AdamW, EMA teacher, centers) equals the plain step's, for every ssl_step_*
// fixture configuration and its inputs, with drop path 0.3 in both stochastic-depth forms.
import { describe, expect, it } from "vitest";
import { readJson, setsWith } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import { fixtureFeeds, type StepFixtureKeys } from "../../test/helpers/ssl-step-fixture.js";
import { type HostTensor, toNumbers, topoSort } from "../core/index.js";
import { readSafetensorsFile } from "../io/index.js";
import { type StepConfig, type StepImpl, stepConfigFromOfficial } from "./step-config.js";
import { buildTrainStep } from "./train-step.js";

type Keys = StepFixtureKeys;

async function runStep(
  cfg: StepConfig,
  fx: ReadonlyMap<string, HostTensor>,
  k: Keys,
): Promise<{ out: Record<string, HostTensor>; replayed: number }> {
  const step = buildTrainStep(cfg);
  const replayed = topoSort(Object.values(step.outputs)).filter((t) =>
    t.scope.startsWith("recompute."),
  ).length;
  const exe = await (await testRuntime()).compile(step.outputs);
  // The same drop-path draws for both steps.
  const feeds = fixtureFeeds(step, fx, k, 5);
  return { out: await exe.run(feeds), replayed };
}

const IMPLS: readonly StepImpl[] = [
  { packing: true, dropPath: "efficient" },
  { packing: false, dropPath: "mask" },
];

describe.each(setsWith("ssl_step_*.safetensors"))(
  "recomputed training iteration, $path",
  ({ path }) => {
    it.each(IMPLS)(
      "packing $packing, drop path $dropPath: every output equals the plain step's (within 1e-6)",
      async (impl) => {
        const fx = readSafetensorsFile(path);
        const { config: k } = readJson<{ config: Keys }>(path.replace(/\.safetensors$/, ".json"));
        const base = stepConfigFromOfficial(k, { emitGrads: true, dropPathRate: 0.3 });
        const { out: plain, replayed: none } = await runStep({ ...base, impl }, fx, k);
        const { out: recomputed, replayed } = await runStep(
          { ...base, impl: { ...impl, recomputeBudgetGiB: 0 } },
          fx,
          k,
        );
        expect(none).toBe(0);
        expect(replayed).toBeGreaterThan(0); // the blocks really are replayed in the backward
        expect(Object.keys(recomputed).sort()).toEqual(Object.keys(plain).sort());
        let worst = 0;
        let blockGrads = 0;
        for (const [name, p] of Object.entries(plain)) {
          const a = toNumbers(p);
          const b = toNumbers(recomputed[name]!);
          a.forEach((v, i) => {
            worst = Math.max(worst, Math.abs(v - b[i]!) / Math.max(1, Math.abs(v)));
          });
          if (name.startsWith("grad.student.backbone.blocks.") && a.some((v) => v !== 0))
            blockGrads++;
        }
        expect(blockGrads).toBeGreaterThan(0); // the recomputed blocks do get gradients
        expect(worst).toBeLessThanOrEqual(1e-6);
      },
    );
  },
);
