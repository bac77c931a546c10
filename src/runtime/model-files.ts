// Model files for onnxruntime-node, which reads external data only beside a model file on disk.
// Each process writes into its own temporary folder (mkdtemp, so two processes never share one,
// even for models with the same bytes), one subfolder per session; a session's folder is removed
// when the session is released, and the process's folder when the process exits.
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoweredModel } from "../onnx/index.js";

let processDir: string | undefined;
let serial = 0;

/** This process's temporary folder, created on first use and removed when the process exits. */
function ownDir(): string {
  if (processDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), `dinov2-ts-${process.pid}-`));
    processDir = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return processDir;
}

export interface ModelFiles {
  /** The model file to open; its external data lies beside it. */
  readonly modelPath: string;
  /** Removes the files (after the session that read them is released). */
  remove(): void;
}

/** Writes the model and its external data file (named as the model references it). */
export function writeModelFiles(model: LoweredModel, externalDataFile: string): ModelFiles {
  const dir = join(ownDir(), `model-${++serial}`);
  mkdirSync(dir);
  const modelPath = join(dir, "model.onnx");
  try {
    writeFileSync(modelPath, model.bytes);
    const fd = openSync(join(dir, externalDataFile), "w");
    try {
      for (const chunk of model.externalData)
        for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { modelPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The folder this process writes model files into, if it has written any (for tests). */
export function modelFilesDir(): string | undefined {
  return processDir;
}
