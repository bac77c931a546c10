// compile(outputs) -> Executable, once per graph hash; run(feeds) with typed, checked feeds.
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type * as Ort from "onnxruntime-node";
import { fmtShape, type HostTensor, type Tensor, type ValueType } from "../core/index.js";
import {
  type LoweredModel,
  type LowerOptions,
  lowerToOnnx,
  OnnxExportError,
} from "../onnx/index.js";
import {
  executionProviders,
  loadOrt,
  type Provider,
  ProviderError,
  probeProviders,
} from "./device.js";
import { fromOrt, toOrt } from "./host-tensor.js";

export interface RuntimeOptions {
  readonly provider?: Provider;
  /** Intra-op threads; default: every core this process may use. */
  readonly threads?: number;
  readonly graphOptimization?: "disabled" | "basic" | "extended" | "all";
  /** Write onnxruntime's per-node profile (JSON) with this file prefix; see Executable.endProfiling. */
  readonly profilePrefix?: string;
  /** onnxruntime's CPU memory arena (default on): off returns freed blocks to the system. */
  readonly memArena?: boolean;
  /** onnxruntime's memory-pattern planning (default on): one block per run, sized on the first. */
  readonly memPattern?: boolean;
}

export class FeedError extends Error {
  override readonly name = "FeedError";
}

/** A compiled graph: run it with feeds keyed by input name. */
export class Executable {
  constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly inputs: ReadonlyMap<string, ValueType>,
    readonly outputNames: readonly string[],
    readonly hash: string,
  ) {}

  /** Runs the graph; every input must be fed with its exact dtype and shape. */
  async run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, type] of this.inputs) {
      const t = feeds[name];
      if (!t) {
        throw new FeedError(
          `missing feed "${name}" (${type.dtype}${fmtShape(type.shape)}); the graph takes: ${[...this.inputs.keys()].join(", ")}`,
        );
      }
      if (t.dtype !== type.dtype || !shapeMatches(t.shape, type.shape)) {
        throw new FeedError(
          `feed "${name}": got ${t.dtype}${fmtShape(t.shape)}, expected ${type.dtype}${fmtShape(type.shape)}`,
        );
      }
      ortFeeds[name] = toOrt(this.ort, t);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputs.has(name))
        throw new FeedError(
          `unknown feed "${name}"; the graph takes: ${[...this.inputs.keys()].join(", ")}`,
        );
    }
    const out = await this.session.run(ortFeeds);
    const result: Record<string, HostTensor> = {};
    for (const name of this.outputNames) result[name] = fromOrt(out[name]!);
    return result;
  }

  /** Stops profiling (RuntimeOptions.profilePrefix) and returns the profile's file name. */
  endProfiling(): string {
    return (this.session as unknown as { endProfiling(): string }).endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** A runtime bound to one provider: compiles graphs and caches sessions by graph hash. */
export class Runtime {
  private readonly cache = new Map<string, Promise<Executable>>();

  constructor(
    private readonly ort: typeof Ort,
    readonly options: Required<Pick<RuntimeOptions, "provider">> & RuntimeOptions,
  ) {}

  /**
   * Lowers the graph computing `outputs` to ONNX and creates (or reuses) its session. Graphs whose
   * constants exceed protobuf's 2 GiB (ViT-g weights) are lowered with external data instead.
   */
  compile(
    outputs: Readonly<Record<string, Tensor>>,
    lowerOpts: LowerOptions = {},
  ): Promise<Executable> {
    try {
      return this.load(lowerToOnnx(outputs, lowerOpts));
    } catch (e) {
      if (!(e instanceof OnnxExportError) || lowerOpts.externalDataFile) throw e;
      return this.load(
        lowerToOnnx(outputs, { ...lowerOpts, externalDataFile: EXTERNAL_DATA_FILE }),
      );
    }
  }

  /** Creates (or reuses) a session for an already lowered model. */
  load(model: LoweredModel): Promise<Executable> {
    const hash = createHash("sha256").update(model.bytes).digest("hex").slice(0, 32);
    let exe = this.cache.get(hash);
    if (!exe) {
      exe = this.create(model, hash);
      this.cache.set(hash, exe);
      exe.catch(() => this.cache.delete(hash));
    }
    return exe;
  }

  get cachedSessions(): number {
    return this.cache.size;
  }

  private async create(model: LoweredModel, hash: string): Promise<Executable> {
    const session =
      model.externalData.length > 0
        ? await this.ort.InferenceSession.create(
            writeModelFiles(model, hash),
            this.sessionOptions(),
          )
        : await this.ort.InferenceSession.create(model.bytes, this.sessionOptions());
    return new Executable(this.ort, session, model.inputs, model.outputNames, hash);
  }

  private sessionOptions(): Ort.InferenceSession.SessionOptions {
    const opts: Ort.InferenceSession.SessionOptions = {
      executionProviders: executionProviders(this.options.provider),
      graphOptimizationLevel: this.options.graphOptimization ?? "all",
      // onnxruntime's own default under-uses small machines (72 vs 99 GFLOP/s on 2 vCPUs).
      intraOpNumThreads: this.options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      ...(this.options.memArena === undefined ? {} : { enableCpuMemArena: this.options.memArena }),
      ...(this.options.memPattern === undefined
        ? {}
        : { enableMemPattern: this.options.memPattern }),
      ...(this.options.profilePrefix
        ? { enableProfiling: true, profileFilePrefix: this.options.profilePrefix }
        : {}),
    };
    return opts;
  }
}

const EXTERNAL_DATA_FILE = "model.onnx.data";

/**
 * onnxruntime-node reads external data only beside a model file: write both to a temporary folder
 * named by the graph hash and return the model's path.
 */
function writeModelFiles(model: LoweredModel, hash: string): string {
  const dir = join(tmpdir(), `dinov2-ts-${hash}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "model.onnx");
  writeFileSync(path, model.bytes);
  const fd = openSync(join(dir, EXTERNAL_DATA_FILE), "w");
  try {
    for (const chunk of model.externalData) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Creates a runtime on `provider` (default cpu); fails listing the providers that start here. */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const provider = options.provider ?? "cpu";
  const o = await loadOrt();
  if (provider !== "cpu") {
    const [probe] = await probeProviders([provider]);
    if (!probe!.ok) {
      const ok = (await probeProviders()).filter((p) => p.ok).map((p) => p.provider);
      throw new ProviderError(
        `execution provider "${provider}" is not available here (${probe!.detail}); available: ${ok.join(", ")}`,
      );
    }
  }
  return new Runtime(o, { ...options, provider });
}

/** -1 in the declared shape is a dynamic axis (export with dynamicAxes). */
function shapeMatches(got: readonly number[], want: readonly number[]): boolean {
  return got.length === want.length && got.every((d, i) => want[i] === -1 || d === want[i]);
}
