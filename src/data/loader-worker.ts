// Worker-thread entry of the SSL loader: rebuilds the pipeline from workerData, then answers each
// BatchJob message with a BatchResult (buffers transferred). Its only effect is at load, by design.
import { parentPort, workerData } from "node:worker_threads";
import {
  type BatchJob,
  type BatchResult,
  batchTransferList,
  createBatchRunner,
  type SslPipelineConfig,
} from "./batch-job.js";

export type WorkerReply =
  | { readonly ok: true; readonly result: BatchResult }
  | { readonly ok: false; readonly batchIndex: number; readonly message: string };

const port = parentPort;
if (port) {
  let run: ReturnType<typeof createBatchRunner> | null = null;
  let initError: unknown = null;
  try {
    run = createBatchRunner(workerData as SslPipelineConfig);
  } catch (e) {
    initError = e;
  }
  port.on("message", (job: BatchJob) => {
    const fail = (e: unknown): void => {
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      port.postMessage({ ok: false, batchIndex: job.batchIndex, message } satisfies WorkerReply);
    };
    if (!run) return fail(initError);
    run(job).then(
      (result) =>
        port.postMessage(
          { ok: true, result } satisfies WorkerReply,
          batchTransferList(result.batch),
        ),
      fail,
    );
  });
}
