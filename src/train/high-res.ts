// The paper's short high-resolution phase: a new run initialised from a trained checkpoint at a
// larger global crop size. Weights carry over; positional embeddings are resampled with the
// model's own interpolation (so the start equals the low-resolution model evaluated at the new
// size); AdamW moments start fresh, as when the official recipe re-initialises from weights.
import { constant, type HostTensor, hostTensor, shapesEqual } from "../core/index.js";
import {
  CheckpointError,
  loadCheckpoint,
  openWeights,
  readSafetensorsFile,
  withLazy,
} from "../io/index.js";
import { interpolatePosEmbed } from "../models/pos-embed.js";
import type { Runtime } from "../runtime/index.js";
import type { TrainState } from "./state.js";
import type { StepConfig } from "./step-config.js";

/** `fresh` with every weight and center taken from the checkpoint at `path`, pos_embed resampled.
 * `path` is a checkpoint of this trainer (student, teacher, heads, centers), or any backbone the
 * other commands load (released .pth of any size, official training output, safetensors, HF
 * folder): then student and teacher backbones start from it and the heads start fresh. */
export async function initFromCheckpoint(
  path: string,
  fresh: TrainState,
  c: StepConfig,
  runtime: Runtime,
): Promise<TrainState> {
  const { tensors: old, backboneOnly } = readInit(path);
  const out = new Map(fresh.tensors);
  for (const [key, init] of fresh.tensors) {
    if (key.startsWith("adam.")) continue;
    if (backboneOnly && !/^(student|teacher)\.backbone\./.test(key)) continue; // fresh heads
    const prev = old.get(key);
    if (!prev)
      throw new CheckpointError(path, `missing; cannot initialise the high-resolution run`, {
        key,
      });
    if (shapesEqual(prev.shape, init.shape)) out.set(key, prev);
    else if (key.endsWith("backbone.pos_embed"))
      out.set(key, await resamplePosEmbed(prev, init.shape, c, runtime));
    else {
      throw new CheckpointError(
        path,
        `shape [${prev.shape}] does not fit the new model's [${init.shape}]`,
        {
          key,
          hint: "only the global crop size may change for the high-resolution phase",
        },
      );
    }
  }
  return { iteration: 0, tensors: out };
}

/** A trainer checkpoint as it is, or a backbone under both `student.backbone.` and
 * `teacher.backbone.` (read through the loader every command uses). */
function readInit(path: string): {
  tensors: ReadonlyMap<string, HostTensor>;
  backboneOnly: boolean;
} {
  const isTrainerState =
    path.endsWith(".safetensors") &&
    withLazy(
      openWeights(path),
      (w) => w.tensors.has("dinoCenter") && w.tensors.has("adam.m.backbone.cls_token"),
    );
  if (isTrainerState) return { tensors: readSafetensorsFile(path), backboneOnly: false };
  const tensors = new Map<string, HostTensor>();
  for (const [k, t] of loadCheckpoint(path).stateDict) {
    tensors.set(`student.backbone.${k}`, t);
    tensors.set(`teacher.backbone.${k}`, { ...t, data: t.data.slice() } as HostTensor);
  }
  return { tensors, backboneOnly: true };
}

async function resamplePosEmbed(
  pos: HostTensor,
  shape: readonly number[],
  c: StepConfig,
  runtime: Runtime,
): Promise<HostTensor> {
  const grid = Math.round(Math.sqrt(shape[1]! - 1));
  const b = c.arch.backbone;
  const y = interpolatePosEmbed(constant(pos), grid, grid, {
    antialias: b.interpolateAntialias,
    offset: b.interpolateOffset,
  });
  const exe = await runtime.compile({ y });
  const r = (await exe.run({})).y!;
  return hostTensor("float32", shape, r.data as Float32Array);
}
