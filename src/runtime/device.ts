// Execution providers: names, what each maps to in onnxruntime, and which really start here.
import type * as ort from "onnxruntime-node";
import { add, input } from "../core/index.js";
import { lowerToOnnx } from "../onnx/index.js";

export const PROVIDERS = ["cpu", "webgpu", "cuda"] as const;
export type Provider = (typeof PROVIDERS)[number];

export class ProviderError extends Error {
  override readonly name = "ProviderError";
}

/** Loads onnxruntime-node on first use (never at import time). */
export async function loadOrt(): Promise<typeof ort> {
  const mod = (await import("onnxruntime-node")) as typeof ort & { default?: typeof ort };
  return mod.default ?? mod;
}

export function parseProvider(name: string): Provider {
  if ((PROVIDERS as readonly string[]).includes(name)) return name as Provider;
  throw new ProviderError(
    `unknown execution provider "${name}"; expected one of ${PROVIDERS.join(", ")}`,
  );
}

export function executionProviders(
  provider: Provider,
): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (provider) {
    case "cpu":
      return ["cpu"];
    case "webgpu":
      return ["webgpu"];
    case "cuda":
      return ["cuda"];
  }
}

export interface ProviderProbe {
  readonly provider: Provider;
  readonly ok: boolean;
  readonly detail: string;
}

/** Tries each provider by creating a session and running one Add; never guesses. */
export async function probeProviders(
  providers: readonly Provider[] = PROVIDERS,
): Promise<ProviderProbe[]> {
  const o = await loadOrt();
  const x = input("x", [2]);
  const probeModel = lowerToOnnx({ y: add(x, x) }).bytes;
  const results: ProviderProbe[] = [];
  for (const provider of providers) {
    try {
      const s = await o.InferenceSession.create(probeModel, {
        executionProviders: executionProviders(provider),
      });
      const y = await s.run({ x: new o.Tensor("float32", Float32Array.of(1, 2), [2]) });
      const v = y.y!.data as Float32Array;
      await s.release();
      const ok = v[0] === 2 && v[1] === 4;
      results.push({ provider, ok, detail: ok ? "ran 1+1=2" : `wrong result ${Array.from(v)}` });
    } catch (e) {
      results.push({ provider, ok: false, detail: (e as Error).message.split("\n")[0]! });
    }
  }
  return results;
}
