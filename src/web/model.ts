// The served ONNX model in onnxruntime-web: WebGPU where the browser has a WebGPU adapter, WASM
// otherwise (and when WebGPU fails to start). Each build is loaded only when used: the WebGPU one
// brings a 28 MB wasm file, the plain WASM one 14 MB, and compiling it is most of the page's
// start-up. Every image goes through the same eval transform as `dinov2 embed`
// (src/inference/preprocess.ts, bundled as is), so the features match Node's.
import type * as Ort from "onnxruntime-web";
import type { Uint8Image } from "../data/image.js";
import { type EvalTransform, evalTransform, preprocessInto } from "../inference/preprocess.js";
import type { PageConfig } from "./page-config.js";

export interface ImageFeatures {
  /** The model input [3, S, S], normalised. */
  readonly pixels: Float32Array;
  /** Normed CLS token [D] (last_hidden_state row 0, as `dinov2 embed` writes it). */
  readonly cls: Float32Array;
  /** Normed patch tokens [P, D], row-major over the patch grid. */
  readonly patches: Float32Array;
}

export class PageModel {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly provider: "webgpu" | "wasm",
    readonly transform: EvalTransform,
    readonly config: PageConfig,
    private readonly batch: number,
  ) {}

  get grid(): number {
    return this.config.imageSize / this.config.patchSize;
  }

  /** Loads the model from the server; ort's wasm files come from /ort/ (no CDN). */
  static async load(config: PageConfig): Promise<PageModel> {
    const bytes = new Uint8Array(await (await fetch(config.modelUrl)).arrayBuffer());
    let started: { ort: typeof Ort; session: Ort.InferenceSession } | undefined;
    let provider: "webgpu" | "wasm" = "wasm";
    if (await hasWebGpuAdapter()) {
      try {
        started = await startSession(await import("onnxruntime-web/webgpu"), bytes, "webgpu");
        provider = "webgpu";
      } catch (e) {
        console.warn("WebGPU did not start; using WASM:", e);
      }
    }
    started ??= await startSession(await import("onnxruntime-web/wasm"), bytes, "wasm");
    const { ort, session } = started;
    const meta = session.inputMetadata[0];
    const first = meta?.isTensor ? meta.shape[0] : undefined;
    const batch = typeof first === "number" && first > 0 ? first : 1;
    const transform = evalTransform(config.imageSize, config.patchSize);
    return new PageModel(ort, session, provider, transform, config, batch);
  }

  /** The eval transform, then one run: the image's CLS and patch features. */
  async embed(img: Uint8Image): Promise<ImageFeatures> {
    const s = this.transform.cropPx;
    const one = 3 * s * s;
    const input = new Float32Array(this.batch * one); // rows past the first are padding
    preprocessInto(img, this.transform, input, 0);
    const feeds = { pixel_values: new this.ort.Tensor("float32", input, [this.batch, 3, s, s]) };
    const out = await this.session.run(feeds);
    const hidden = out.last_hidden_state;
    if (!hidden) throw new Error("the model has no last_hidden_state output");
    const data = (await hidden.getData()) as Float32Array;
    const d = this.config.dim;
    const p = this.grid * this.grid;
    const first = 1 + this.config.numRegisters;
    const result = {
      pixels: input.slice(0, one),
      cls: data.slice(0, d),
      patches: data.slice(first * d, (first + p) * d),
    };
    hidden.dispose();
    return result;
  }
}

async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

async function startSession(
  ort: typeof Ort,
  bytes: Uint8Array,
  provider: "webgpu" | "wasm",
): Promise<{ ort: typeof Ort; session: Ort.InferenceSession }> {
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
  // Threads need cross-origin isolation, which the server's COOP/COEP headers give.
  ort.env.wasm.numThreads = self.crossOriginIsolated
    ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1))
    : 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [provider] });
  return { ort, session };
}
