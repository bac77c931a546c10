// The SSL data loader: decode + multi-crop + collate on worker_threads (or in-thread with
// workers: 0), batches yielded in order with a bounded prefetch window, seeded and resumable.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { assert } from "../core/errors.js";
import {
  type BatchJob,
  type BatchResult,
  createBatchRunner,
  type SslPipelineConfig,
} from "./batch-job.js";
import type { SslBatch } from "./collate.js";
import { datasetLength, type SkippedFile } from "./datasets/dataset.js";
import type { WorkerReply } from "./loader-worker.js";
import { createInfiniteSampler } from "./sampler.js";

export interface SslLoaderOptions extends SslPipelineConfig {
  readonly batchSize: number;
  /** Worker threads; 0 (default) runs every batch in this thread. */
  readonly workers?: number;
  /** Most batches in flight or waiting to be taken (default 2 per worker). */
  readonly prefetch?: number;
  readonly shuffle?: boolean;
  /** First batch index (resume); default 0. */
  readonly startBatch?: number;
  /** Stop after this many batches; default: never (an infinite stream). */
  readonly numBatches?: number;
}

export interface LoaderStats {
  readonly batches: number;
  /** Undecodable files met so far (each once), replaced in their batch by the next image. */
  readonly skipped: readonly SkippedFile[];
}

export interface SslLoader extends AsyncIterable<SslBatch> {
  /** The next batch in order, or null once `numBatches` have been produced. */
  next(): Promise<SslBatch | null>;
  stats(): LoaderStats;
  /** Terminates the workers; safe to call twice. Breaking out of `for await` calls it. */
  close(): Promise<void>;
}

interface Pending {
  readonly promise: Promise<BatchResult>;
  resolve(r: BatchResult): void;
  reject(e: Error): void;
}

/** Creates the loader; workers start lazily on the first `next()`. */
export function createSslLoader(opts: SslLoaderOptions): SslLoader {
  const sampler = createInfiniteSampler({
    length: datasetLength(opts.dataset),
    batchSize: opts.batchSize,
    seed: opts.seed,
    ...(opts.shuffle === undefined ? {} : { shuffle: opts.shuffle }),
  });
  const config: SslPipelineConfig = {
    dataset: opts.dataset,
    seed: opts.seed,
    patchSize: opts.patchSize,
    ...(opts.augmentation ? { augmentation: opts.augmentation } : {}),
    ...(opts.maskRatioMinMax ? { maskRatioMinMax: opts.maskRatioMinMax } : {}),
    ...(opts.maskProbability === undefined ? {} : { maskProbability: opts.maskProbability }),
  };
  const start = opts.startBatch ?? 0;
  const end = start + (opts.numBatches ?? Number.POSITIVE_INFINITY);
  const nWorkers = opts.workers ?? 0;
  const skipped = new Map<string, SkippedFile>();
  let produced = 0;
  let nextK = start;
  const job = (k: number): BatchJob => ({ batchIndex: k, indices: sampler(k) });
  const source =
    nWorkers > 0
      ? createWorkerSource(config, nWorkers, Math.max(1, opts.prefetch ?? 2 * nWorkers), job, end)
      : createInThreadSource(config, job);

  const next = async (): Promise<SslBatch | null> => {
    if (nextK >= end) return null;
    const r = await source.take(nextK++);
    for (const s of r.skipped) skipped.set(s.path, s);
    produced++;
    return r.batch;
  };
  const close = (): Promise<void> => source.close();
  return {
    next,
    close,
    stats: () => ({ batches: produced, skipped: [...skipped.values()] }),
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const b = await next();
        return b ? { done: false, value: b } : { done: true, value: undefined };
      },
      return: async () => {
        await close();
        return { done: true, value: undefined };
      },
    }),
  };
}

interface BatchSource {
  take(k: number): Promise<BatchResult>;
  close(): Promise<void>;
}

function createInThreadSource(
  config: SslPipelineConfig,
  job: (k: number) => BatchJob,
): BatchSource {
  let run: ((j: BatchJob) => Promise<BatchResult>) | null = null;
  return {
    take: (k) => {
      run ??= createBatchRunner(config);
      return run(job(k));
    },
    close: async () => {},
  };
}

/** A pool of workers; job k goes to the next idle worker while fewer than `prefetch` are pending. */
function createWorkerSource(
  config: SslPipelineConfig,
  nWorkers: number,
  prefetch: number,
  job: (k: number) => BatchJob,
  end: number,
): BatchSource {
  const pending = new Map<number, Pending>();
  let pool: { worker: Worker; busyWith: number | null }[] | null = null;
  let dispatched = -1;
  let taken = -1;
  let failure: Error | null = null;
  let closed = false;

  const onReply = (slot: { worker: Worker; busyWith: number | null }, reply: WorkerReply): void => {
    slot.busyWith = null;
    slot.worker.unref(); // an idle worker must not keep the process alive
    if (reply.ok) pending.get(reply.result.batchIndex)?.resolve(reply.result);
    else pending.get(reply.batchIndex)?.reject(new Error(`loader worker: ${reply.message}`));
    pump();
  };
  const fail = (e: Error): void => {
    failure = e;
    for (const p of pending.values()) p.reject(e);
  };
  const start = (): typeof pool => {
    return Array.from({ length: nWorkers }, () => {
      const worker = spawnWorker(config);
      const slot = { worker, busyWith: null as number | null };
      worker.on("message", (r: WorkerReply) => onReply(slot, r));
      worker.on("error", (e) => fail(e));
      worker.on("exit", (code) => {
        if (pool !== null) fail(new Error(`loader worker exited unexpectedly with code ${code}`));
      });
      worker.unref();
      return slot;
    });
  };
  const pump = (): void => {
    if (!pool || failure) return;
    while (dispatched + 1 < end && dispatched - taken < prefetch) {
      const slot = pool.find((s) => s.busyWith === null);
      if (!slot) return;
      const k = ++dispatched;
      pending.set(k, deferred());
      slot.busyWith = k;
      slot.worker.ref();
      slot.worker.postMessage(job(k));
    }
  };
  return {
    take: async (k) => {
      if (failure) throw failure;
      if (closed) throw new Error("loader: next() after close()");
      if (!pool) {
        pool = start();
        dispatched = taken = k - 1;
      }
      pump();
      const p = pending.get(k);
      assert(p !== undefined, `loader: batch ${k} was never dispatched`);
      try {
        return await p.promise;
      } finally {
        pending.delete(k);
        taken = k;
        pump();
      }
    },
    close: async () => {
      closed = true;
      const workers = pool ?? [];
      pool = null;
      await Promise.all(workers.map((s) => s.worker.terminate()));
    },
  };
}

/**
 * Starts a worker on the module next to this file: the compiled .js in dist/, or, when running from
 * .ts sources (vitest, tsx), a small bootstrap that registers tsx's loader first.
 */
function spawnWorker(config: SslPipelineConfig): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./loader-worker.js", import.meta.url), { workerData: config });
  }
  // tsx's ESM entry (its CommonJS twin resolves paths relative to the eval'd script).
  const tsxApi = createRequire(import.meta.url)
    .resolve("tsx/esm/api")
    .replace(/\.cjs$/, ".mjs");
  const entry = new URL("./loader-worker.ts", import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(pathToFileURL(tsxApi).href)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: config });
}

function deferred(): Pending {
  let resolve!: (r: BatchResult) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<BatchResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections surface through take(); avoid unhandled-rejection noise
  return { promise, resolve, reject };
}
