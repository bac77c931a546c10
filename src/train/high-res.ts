// The paper's short high-resolution phase: a new run initialised from a trained checkpoint at a
// larger global crop size. Weights carry over; positional embeddings are resampled with the
// model's own interpolation (so the start equals the low-resolution model evaluated at the new
// size); AdamW moments start fresh, as when the official recipe re-initialises from weights.

import { statSync } from "node:fs";
import { constant, type HostTensor, hostTensor, shapesEqual } from "../core/index.js";
import { CheckpointError, readSafetensorsFile } from "../io/index.js";
import { loadBackbone } from "../models/backbone.js";
import { interpolatePosEmbed } from "../models/pos-embed.js";
import type { Runtime } from "../runtime/index.js";
import { isZip, loadSslNetwork } from "./ssl-teacher.js";
import type { TrainState } from "./state.js";
import type { StepConfig } from "./step-config.js";
import { STATE } from "./train-step.js";

/**
 * `fresh` with its weights taken from the checkpoint at `path`, pos_embed resampled when the
 * crop size differs; AdamW moments start at zero. `path` may be one of our training checkpoints
 * (every weight and center), a training checkpoint with heads such as the official
 * `teacher_checkpoint.pth` (backbone and heads into student and teacher), or a backbone alone —
 * a released `.pth` or HF folder — whose heads then start fresh (continued pretraining).
 */
export async function initFromCheckpoint(
  path: string,
  fresh: TrainState,
  c: StepConfig,
  runtime: Runtime,
): Promise<TrainState> {
  const { weights, what } = startingWeights(path, fresh, c);
  const out = new Map(fresh.tensors);
  for (const [key, prev] of weights) {
    const init = fresh.tensors.get(key);
    if (!init || key.startsWith(STATE.adamM) || key.startsWith(STATE.adamV)) continue;
    if (shapesEqual(prev.shape, init.shape)) out.set(key, prev);
    else if (key.endsWith("backbone.pos_embed"))
      out.set(key, await resamplePosEmbed(prev, init.shape, c, runtime));
    else {
      throw new CheckpointError(
        path,
        `shape [${prev.shape}] does not fit the new model's [${init.shape}]`,
        {
          key,
          hint:
            what === "state"
              ? "only the global crop size may change for the high-resolution phase"
              : "the config must describe the checkpoint's architecture and head sizes (--set dino.head_n_prototypes=...)",
        },
      );
    }
  }
  return { iteration: 0, tensors: out };
}

/** What `path` holds, as state names (`student.*`, `teacher.*`, centers) and tensors. */
function startingWeights(
  path: string,
  fresh: TrainState,
  c: StepConfig,
): { weights: Map<string, HostTensor>; what: "state" | "network" | "backbone" } {
  const isDir = statSync(path, { throwIfNoEntry: false })?.isDirectory();
  if (!isDir && !isZip(path)) {
    const state = readSafetensorsFile(path);
    if (state.has(`${STATE.student}backbone.cls_token`)) {
      for (const key of fresh.tensors.keys())
        if (!key.startsWith("adam.") && !state.has(key))
          throw new CheckpointError(path, "missing; cannot initialise the new run", { key });
      return { weights: state, what: "state" };
    }
  }
  const numHeads = { numHeads: c.arch.backbone.numHeads };
  const both = (w: ReadonlyMap<string, HostTensor>) =>
    new Map(
      [...w].flatMap(([k, t]) => [
        [STATE.student + k, t] as const,
        [STATE.teacher + k, t] as const,
      ]),
    );
  if (!isDir) {
    try {
      return { weights: both(loadSslNetwork(path, numHeads).weights), what: "network" };
    } catch (e) {
      if (!(e instanceof CheckpointError) || !/has no dino_head/.test(e.message)) throw e;
    }
  }
  const bb = loadBackbone(path, numHeads);
  return {
    weights: both(new Map([...bb.weights].map(([k, t]) => [`backbone.${k}`, t]))),
    what: "backbone",
  };
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
