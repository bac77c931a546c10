// The paper's short high-resolution phase: a new run initialised from a trained checkpoint at a
// larger global crop size. Weights carry over; positional embeddings are resampled with the
// model's own interpolation (so the start equals the low-resolution model evaluated at the new
// size); AdamW moments start fresh, as when the official recipe re-initialises from weights.
import { constant, type HostTensor, hostTensor, shapesEqual } from "../core/index.js";
import { CheckpointError, readSafetensorsFile } from "../io/index.js";
import { interpolatePosEmbed } from "../models/pos-embed.js";
import type { Runtime } from "../runtime/index.js";
import type { TrainState } from "./state.js";
import type { StepConfig } from "./step-config.js";

/** `fresh` with every weight and center taken from the checkpoint at `path`, pos_embed resampled. */
export async function initFromCheckpoint(
  path: string,
  fresh: TrainState,
  c: StepConfig,
  runtime: Runtime,
): Promise<TrainState> {
  const old = readSafetensorsFile(path);
  const out = new Map(fresh.tensors);
  for (const [key, init] of fresh.tensors) {
    if (key.startsWith("adam.")) continue;
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
