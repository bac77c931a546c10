// `--descriptor` and its settings as the curate stages read them: on embed/run a copy-detection
// model FILE.onnx (its descriptors stored beside the embedding); on dedup/calibrate which stored
// descriptor to use (phash, embedding, or the same FILE.onnx, checked against the pool's record).
import { type DescriptorName, parseDescriptor } from "../curate/descriptors.js";
import { DescriptorModel } from "../curate/onnx-descriptor.js";
import type { FlagValues } from "./command.js";
import type { CURATE_FLAGS } from "./curate-flags.js";
import { intFlag } from "./flag-values.js";
import { UsageError } from "./usage-error.js";

type V = FlagValues<typeof CURATE_FLAGS>;

/** The descriptor model of `--descriptor FILE.onnx`, or undefined for phash / embedding. */
export async function descriptorModel(v: V, threads: number): Promise<DescriptorModel | undefined> {
  const d = parseDescriptor(v.descriptor ?? "phash");
  if (d.name !== "onnx") {
    for (const f of ["descriptor-size", "descriptor-mean", "descriptor-std"] as const) {
      if (v[f] !== undefined)
        throw new UsageError(`--${f} applies to a descriptor model (--descriptor FILE.onnx) only`, {
          flag: `--${f}`,
        });
    }
    return undefined;
  }
  return DescriptorModel.load({
    path: d.path!,
    ...(v["descriptor-size"] === undefined
      ? {}
      : { size: intFlag(v["descriptor-size"], "descriptor-size", { min: 1 }) }),
    ...(v["descriptor-mean"] === undefined
      ? {}
      : { mean: triple(v["descriptor-mean"], "descriptor-mean") }),
    ...(v["descriptor-std"] === undefined
      ? {}
      : { std: triple(v["descriptor-std"], "descriptor-std") }),
    batchSize: intFlag(v["batch-size"], "batch-size", { min: 1 }),
    threads,
  });
}

/** embed stores pHash and the embedding always: its --descriptor can only add a model. */
export function checkEmbedDescriptor(v: V): void {
  if (v.descriptor !== undefined && parseDescriptor(v.descriptor).name !== "onnx") {
    throw new UsageError(
      `--descriptor ${v.descriptor}: embed always stores pHash and the embedding; its --descriptor takes a model FILE.onnx`,
      { flag: "--descriptor" },
    );
  }
}

/** Which stored descriptor dedup/calibrate compare, as dedup-stage.ts names it. */
export function descriptorKey(
  v: V,
  model: DescriptorModel | undefined,
): { name: DescriptorName; key: string } {
  const d = parseDescriptor(v.descriptor ?? "phash");
  return { name: d.name, key: d.name === "onnx" ? model!.id : d.name };
}

function triple(text: string, flag: string): number[] {
  const xs = text.split(",").map((s) => Number(s.trim()));
  if (xs.length !== 3 || xs.some((x) => !Number.isFinite(x)))
    throw new UsageError(`--${flag}: got "${text}", expected three numbers R,G,B`, {
      flag: `--${flag}`,
    });
  return xs;
}
