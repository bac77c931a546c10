// An ONNX model written elsewhere (a file, not a graph of ours): its declared inputs and outputs
// as onnxruntime reads them, and runs on host tensors. For models the project does not build
// itself, such as a copy-detection descriptor given by path (src/curate/onnx-descriptor.ts).
import type * as Ort from "onnxruntime-node";
import type { HostTensor } from "../core/index.js";
import { loadOrt } from "./device.js";
import { fromOrt, toOrt } from "./host-tensor.js";

export interface DeclaredValue {
  readonly name: string;
  /** Declared dimensions: a number when fixed, a string when symbolic; [] when not declared. */
  readonly shape: readonly (number | string)[];
}

export class ModelFile {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly inputs: readonly DeclaredValue[],
    readonly outputs: readonly DeclaredValue[],
  ) {}

  /** Loads `bytes` (an ONNX model) on the CPU with `threads` intra-op threads (0: ort's choice). */
  static async load(bytes: Uint8Array, threads = 0): Promise<ModelFile> {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
    const declared = (m: readonly Ort.InferenceSession.ValueMetadata[]) =>
      m.map((v) => ({ name: v.name, shape: v.isTensor ? [...v.shape] : [] }));
    return new ModelFile(
      ort,
      session,
      declared(session.inputMetadata),
      declared(session.outputMetadata),
    );
  }

  async run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
    const ortFeeds = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [k, toOrt(this.ort, t)]),
    );
    const out = await this.session.run(ortFeeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, fromOrt(t)]));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
