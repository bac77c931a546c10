// An Embedder: one compiled inference graph (weights as constants, static batch) that turns
// preprocessed image batches into features. `embed` feeds it from files; benchmarks feed it tensors.
import { ConfigError } from "../config/errors.js";
import { hostTensor } from "../core/index.js";
import { type Backbone, loadBackbone } from "../models/backbone.js";
import { createRuntime, type Executable, type Provider } from "../runtime/index.js";
import {
  canFuse,
  type EmbedGraphOptions,
  embedGraph,
  PIXEL_VALUES,
  tokenCounts,
} from "./backbone-graph.js";
import { quantizeLinears } from "./int8.js";
import { type EvalTransform, evalTransform } from "./preprocess.js";

export interface EmbedderOptions extends EmbedGraphOptions {
  /** A backbone already in memory; or give `modelPath`. */
  readonly backbone?: Backbone;
  /** A .pth, .safetensors or Hugging Face directory, read with loadBackbone. */
  readonly modelPath?: string;
  /** Square input side, a multiple of the patch size (default 224). */
  readonly imageSize?: number;
  /** Images per run; the graph is compiled for exactly this batch (default 32). */
  readonly batchSize?: number;
  readonly provider?: Provider;
  /** Intra-op threads; default: onnxruntime's choice. */
  readonly threads?: number;
  /** Linear layers in int8 (dynamic quantisation, inference/int8.ts). */
  readonly int8?: boolean;
  /**
   * onnxruntime's fused CPU kernels (Attention, SkipLayerNormalization, BiasGelu; see
   * models/fused-forward.ts). Default: on for the cpu provider when the architecture is covered
   * and the graph is fp32; true elsewhere is refused. With int8, the linear layers outside the
   * Attention kernel (proj, fc1, fc2) are quantised and the QKV projection stays fp32.
   */
  readonly fused?: boolean;
}

/** Whether createEmbedder lowers to the fused kernels for these options (see `fused`). */
export function usesFused(opts: EmbedderOptions, backbone: Backbone): boolean {
  const provider = opts.provider ?? "cpu";
  if (opts.fused === true) {
    if (provider !== "cpu") {
      throw new ConfigError(
        "fused",
        `the fused kernels are used on the cpu provider only; got "${provider}"`,
      );
    }
    return true;
  }
  return (
    opts.fused === undefined && provider === "cpu" && !opts.int8 && canFuse(backbone) === undefined
  );
}

/** Features of the first `count` images of a batch, row-major. */
export interface BatchFeatures {
  readonly cls: Float32Array; // [count, D]
  readonly patches?: Float32Array; // [count, P, D]
  readonly registers?: Float32Array; // [count, R, D]
}

/** A compiled backbone forward pass over fixed-size batches of preprocessed images. */
export class Embedder {
  constructor(
    private readonly exe: Executable,
    readonly backbone: Backbone,
    readonly transform: EvalTransform,
    readonly batchSize: number,
    readonly numPatches: number,
    readonly numRegisters: number,
  ) {}

  get imageSize(): number {
    return this.transform.cropPx;
  }

  get dim(): number {
    return this.backbone.options.embedDim;
  }

  /** Floats in one image [3, S, S]. */
  get imageLength(): number {
    return 3 * this.imageSize * this.imageSize;
  }

  /** Runs one batch `pixels` [batchSize, 3, S, S] (rows past `count` are padding). */
  async run(pixels: Float32Array, count = this.batchSize): Promise<BatchFeatures> {
    const s = this.imageSize;
    const feeds = { [PIXEL_VALUES]: hostTensor("float32", [this.batchSize, 3, s, s], pixels) };
    const out = await this.exe.run(feeds);
    const rows = (name: string, perImage: number): Float32Array | undefined =>
      (out[name]?.data as Float32Array | undefined)?.subarray(0, count * perImage);
    const patches = rows("patches", this.numPatches * this.dim);
    const registers = rows("registers", this.numRegisters * this.dim);
    return {
      cls: rows("cls", this.dim)!,
      ...(patches ? { patches } : {}),
      ...(registers ? { registers } : {}),
    };
  }

  async release(): Promise<void> {
    await this.exe.release();
  }
}

/**
 * Loads the backbone (if given a path) and compiles its inference graph.
 * @example const e = await createEmbedder({ modelPath: "dinov2-small/", batchSize: 8 });
 *          (await e.run(pixels)).cls // Float32Array [8 * 384]
 */
export async function createEmbedder(opts: EmbedderOptions): Promise<Embedder> {
  const backbone = resolveBackbone(opts);
  const transform = evalTransform(opts.imageSize ?? 224, backbone.options.patchSize);
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigError("batchSize", `batch size must be a positive integer; got ${batchSize}`);
  }
  const fused = usesFused(opts, backbone);
  const fp32 = embedGraph(backbone, batchSize, transform.cropPx, { ...opts, fused });
  const graph = opts.int8 ? quantizeLinears(fp32).outputs : fp32;
  const runtime = await createRuntime({
    ...(opts.provider ? { provider: opts.provider } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
  });
  const exe = await runtime.compile(graph);
  const { patches, registers } = tokenCounts(backbone, transform.cropPx);
  return new Embedder(exe, backbone, transform, batchSize, patches, registers);
}

function resolveBackbone(opts: EmbedderOptions): Backbone {
  if (opts.backbone && opts.modelPath === undefined) return opts.backbone;
  if (opts.modelPath !== undefined && !opts.backbone) return loadBackbone(opts.modelPath);
  throw new ConfigError("backbone", "give exactly one of `backbone` and `modelPath`");
}
