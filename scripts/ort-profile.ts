// onnxruntime's profile as the profiling scripts read it (scripts/profile-step.ts,
// scripts/profile-onnx.ts): the JSON onnxruntime-node wrote as <tmpdir>/<base>_<date>.json.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface KernelEvent {
  readonly name: string;
  /** Microseconds. */
  readonly dur: number;
  readonly args?: { readonly op_name?: string };
}

/**
 * The kernel events of every run after the first (a warm-up) in the profile whose file name
 * starts with `base`; the file is removed unless `keep`. onnxruntime-node does not return the
 * name it wrote, hence the search.
 */
export function timedKernels(base: string, keep = false): KernelEvent[] {
  const found = readdirSync(tmpdir()).find((f) => f.startsWith(base) && f.endsWith(".json"));
  if (!found) throw new Error(`no onnxruntime profile ${join(tmpdir(), base)}_*.json was written`);
  const file = join(tmpdir(), found);
  const events = JSON.parse(readFileSync(file, "utf8")) as (KernelEvent & { cat: string })[];
  if (!keep) rmSync(file, { force: true });
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").length;
  const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  return kernels.slice(Math.round(kernels.length / runs));
}
