// compile(outputs) -> Executable, once per model (graph and weights, external data included) in
// a bounded LRU cache that releases the sessions it drops; run(feeds) with typed, checked feeds.
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
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
import { type ModelFiles, writeModelFiles } from "./model-files.js";

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
  /**
   * Most sessions kept (default 8): compiling one more releases the least recently compiled.
   * Graphs that run with changing weights take them as inputs (one session), not as constants.
   */
  readonly maxSessions?: number;
}

export class FeedError extends Error {
  override readonly name = "FeedError";
}

/** A compiled graph: run it with feeds keyed by input name. */
export class Executable {
  private inFlight = 0;
  private state: "live" | "evicted" | "released" = "live";

  constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly inputs: ReadonlyMap<string, ValueType>,
    readonly outputNames: readonly string[],
    readonly hash: string,
    private readonly onRelease: () => void = () => {},
  ) {}

  /** Runs the graph; every input must be fed with its exact dtype and shape. */
  async run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
    if (this.state !== "live") {
      throw new FeedError(
        this.state === "evicted"
          ? `this session (${this.hash}) was dropped from the runtime's session cache (maxSessions); compile the graph again`
          : `this session (${this.hash}) was released`,
      );
    }
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
    this.inFlight++;
    try {
      const out = await this.session.run(ortFeeds);
      const result: Record<string, HostTensor> = {};
      for (const name of this.outputNames) result[name] = fromOrt(out[name]!);
      return result;
    } finally {
      this.inFlight--;
      if ((this.state as string) === "evicted" && this.inFlight === 0) await this.free();
    }
  }

  /** Stops profiling (RuntimeOptions.profilePrefix) and returns the profile's file name. */
  endProfiling(): string {
    return (this.session as unknown as { endProfiling(): string }).endProfiling();
  }

  get released(): boolean {
    return this.state !== "live";
  }

  /** Releases the session (and its model files) and drops it from its runtime's cache. */
  async release(): Promise<void> {
    if (this.state === "released") return;
    this.state = "released";
    await this.free();
  }

  /** Called by the cache when it drops this session: released once no run is in flight. */
  async evict(): Promise<void> {
    if (this.state !== "live") return;
    this.state = "evicted";
    if (this.inFlight === 0) await this.free();
  }

  private freed = false;
  private async free(): Promise<void> {
    if (this.freed) return;
    this.freed = true;
    this.onRelease();
    await this.session.release();
  }
}

/** A runtime bound to one provider: compiles graphs and keeps a bounded cache of sessions. */
export class Runtime {
  /** Sessions by model hash, least recently compiled first. */
  private readonly cache = new Map<string, Promise<Executable>>();

  constructor(
    private readonly ort: typeof Ort,
    readonly options: Required<Pick<RuntimeOptions, "provider">> & RuntimeOptions,
  ) {
    const max = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxSessions must be a positive integer; got ${max}`);
  }

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

  /**
   * Creates (or reuses) a session for an already lowered model. The cache key covers the model
   * bytes and its external data, so two checkpoints of one architecture never share a session.
   */
  load(model: LoweredModel): Promise<Executable> {
    const h = createHash("sha256").update(model.bytes);
    for (const chunk of model.externalData) h.update(chunk);
    const hash = h.digest("hex").slice(0, 32);
    let exe = this.cache.get(hash);
    if (exe) {
      this.cache.delete(hash); // most recently used goes last
      this.cache.set(hash, exe);
      return exe;
    }
    exe = this.create(model, hash);
    this.cache.set(hash, exe);
    exe.catch(() => {
      if (this.cache.get(hash) === exe) this.cache.delete(hash);
    });
    this.evictOverflow();
    return exe;
  }

  /** Sessions held now (at most `maxSessions`). */
  get cachedSessions(): number {
    return this.cache.size;
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map((p) => p.then((e) => e.release()).catch(() => undefined)));
  }

  private evictOverflow(): void {
    const max = this.options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    for (const [hash, exe] of this.cache) {
      if (this.cache.size <= max) break;
      this.cache.delete(hash);
      exe.then((e) => e.evict()).catch(() => undefined);
    }
  }

  private async create(model: LoweredModel, hash: string): Promise<Executable> {
    let files: ModelFiles | undefined;
    let session: Ort.InferenceSession;
    try {
      if (model.externalData.length > 0) {
        files = writeModelFiles(model, model.externalDataFile ?? EXTERNAL_DATA_FILE);
        session = await this.ort.InferenceSession.create(files.modelPath, this.sessionOptions());
      } else {
        session = await this.ort.InferenceSession.create(model.bytes, this.sessionOptions());
      }
    } catch (e) {
      files?.remove();
      throw e;
    }
    const onRelease = () => {
      const cached = this.cache.get(hash);
      if (cached) void cached.then((e) => e === exe && this.cache.delete(hash));
      files?.remove();
    };
    const exe = new Executable(this.ort, session, model.inputs, model.outputNames, hash, onRelease);
    return exe;
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

const DEFAULT_MAX_SESSIONS = 8;
const EXTERNAL_DATA_FILE = "model.onnx.data";

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
