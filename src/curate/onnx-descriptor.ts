// A copy-detection descriptor from any ONNX model (the paper used SSCD): one image input
// [batch, 3, S, S] and a 2-D output [batch, D], run by onnxruntime on the same eval transform as
// the embedding (resize the short side to S·256/224, centre crop S, normalise with mean/std),
// rows L2-normalised. S is read from the model's input shape when static, else given. The model
// is probed once at load (a zero batch), so a wrong input rank or a non-2-D output fails there,
// naming the file and the shape. Its `id` (file name, content hash, size, mean, std) is what the
// pool table records, so descriptors of two models (or two settings) are never mixed.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type HostTensor, hostTensor } from "../core/index.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/image.js";
import type { EvalTransform } from "../inference/preprocess.js";
import { ModelFile } from "../runtime/index.js";
import { CurateError } from "./errors.js";
import { normalizeRows } from "./knn.js";

export interface DescriptorModelOptions {
  /** The .onnx file. */
  readonly path: string;
  /** Input side when the model's is symbolic (must match it when static). */
  readonly size?: number;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  /** Images per run when the model's batch axis is symbolic (default 32). */
  readonly batchSize?: number;
  readonly threads?: number;
}

export class DescriptorModel {
  private constructor(
    private readonly model: ModelFile,
    /** Names the model in the pool table's metadata. */
    readonly id: string,
    readonly transform: EvalTransform,
    readonly batchSize: number,
    /** True when the model's batch axis is fixed (every run is padded to it). */
    private readonly staticBatch: boolean,
    readonly dim: number,
  ) {}

  /** Loads, checks and probes the model; every fault names the file and the shape. */
  static async load(o: DescriptorModelOptions): Promise<DescriptorModel> {
    const where = `--descriptor ${o.path}`;
    let bytes: Buffer;
    try {
      bytes = await readFile(o.path);
    } catch (e) {
      throw new CurateError(where, `cannot read the model: ${(e as Error).message}`);
    }
    let model: ModelFile;
    try {
      model = await ModelFile.load(bytes, o.threads ?? 0);
    } catch (e) {
      throw new CurateError(where, `not a model onnxruntime loads: ${firstLine(e)}`);
    }
    try {
      return await DescriptorModel.check(model, bytes, o, where);
    } catch (e) {
      await model.release();
      throw e;
    }
  }

  private static async check(
    model: ModelFile,
    bytes: Buffer,
    o: DescriptorModelOptions,
    where: string,
  ): Promise<DescriptorModel> {
    if (model.inputs.length !== 1) {
      throw new CurateError(
        where,
        `has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(", ")}); a descriptor model takes one image batch [batch, 3, S, S]`,
      );
    }
    const meta = model.inputs[0]!;
    const shape = meta.shape;
    if (shape.length !== 4 || (typeof shape[1] === "number" && shape[1] !== 3)) {
      throw new CurateError(
        where,
        `input "${meta.name}" has shape [${shape.join(", ")}]; expected [batch, 3, S, S]`,
      );
    }
    const [b, , h, w] = shape;
    let size: number;
    if (typeof h === "number" && typeof w === "number") {
      if (h !== w)
        throw new CurateError(where, `input "${meta.name}" is ${h}x${w}; expected a square S x S`);
      if (o.size !== undefined && o.size !== h) {
        throw new CurateError(
          "--descriptor-size",
          `${o.size} does not match the model's fixed input side ${h} (${o.path})`,
          "leave --descriptor-size out: a static input size is read from the model",
        );
      }
      size = h;
    } else if (o.size !== undefined) size = o.size;
    else {
      throw new CurateError(
        where,
        `input "${meta.name}" has a symbolic side [${shape.join(", ")}]`,
        "give --descriptor-size S (the side the model was trained at; SSCD: 288)",
      );
    }
    const mean = o.mean ?? IMAGENET_MEAN;
    const std = o.std ?? IMAGENET_STD;
    for (const [flag, v] of [
      ["--descriptor-mean", mean],
      ["--descriptor-std", std],
    ] as const) {
      if (
        v.length !== 3 ||
        v.some((x) => !Number.isFinite(x)) ||
        (flag.endsWith("std") && v.some((x) => x <= 0))
      )
        throw new CurateError(
          flag,
          `expected three numbers (R,G,B${flag.endsWith("std") ? ", > 0" : ""}); got ${v.join(",")}`,
        );
    }
    const staticBatch = typeof b === "number" && b > 0;
    const batchSize = staticBatch ? (b as number) : (o.batchSize ?? 32);
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
    const id = `onnx ${basename(o.path)} sha256:${hash} ${size}px mean=${mean.join(",")} std=${std.join(",")}`;
    const transform = { resizePx: Math.round((size * 256) / 224), cropPx: size, mean, std };
    // Probe: one zero batch shows the output's real shape.
    const probe = new DescriptorModel(model, id, transform, batchSize, staticBatch, 0);
    const rows = staticBatch ? batchSize : 1;
    const out = await probe.raw(new Float32Array(rows * 3 * size * size), where);
    if (out.shape.length !== 2 || out.shape[0] !== rows || out.dtype !== "float32") {
      throw new CurateError(
        where,
        `output "${model.outputs[0]!.name}" is ${out.dtype} [${out.shape.join(", ")}] for a batch of ${rows}; a descriptor model must return float32 [batch, D]`,
      );
    }
    return new DescriptorModel(model, id, transform, batchSize, staticBatch, out.shape[1]!);
  }

  /** Floats in one preprocessed image [3, S, S]. */
  get imageLength(): number {
    return 3 * this.transform.cropPx * this.transform.cropPx;
  }

  /** Unit descriptors [count, D] of the first `count` images in `pixels` [≥ count, 3, S, S]. */
  async run(pixels: Float32Array, count: number): Promise<Float32Array> {
    const per = this.imageLength;
    const out = new Float32Array(count * this.dim);
    for (let i0 = 0; i0 < count; i0 += this.batchSize) {
      const n = Math.min(this.batchSize, count - i0);
      const rows = this.staticBatch ? this.batchSize : n;
      const feed = new Float32Array(rows * per);
      feed.set(pixels.subarray(i0 * per, (i0 + n) * per));
      const r = await this.raw(feed, `descriptor ${this.id}`);
      out.set((r.data as Float32Array).subarray(0, n * this.dim), i0 * this.dim);
    }
    return normalizeRows(out, this.dim);
  }

  private async raw(pixels: Float32Array, where: string): Promise<HostTensor> {
    const s = this.transform.cropPx;
    const rows = pixels.length / (3 * s * s);
    try {
      const r = await this.model.run({
        [this.model.inputs[0]!.name]: hostTensor("float32", [rows, 3, s, s], pixels),
      });
      return r[this.model.outputs[0]!.name]!;
    } catch (e) {
      throw new CurateError(
        where,
        `running on [${rows}, 3, ${s}, ${s}] failed: ${firstLine(e)}`,
        "check --descriptor-size against the side the model expects",
      );
    }
  }

  async release(): Promise<void> {
    await this.model.release();
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 300);
}
