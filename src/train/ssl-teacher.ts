// A whole SSL network (backbone and heads) read from a checkpoint: the frozen teacher of
// distillation, and the start of continued pretraining with the released heads. Reads our
// training checkpoints (`teacher.*`), our eval teacher (`backbone.*`, `dino_head.*`, ...), the
// official `teacher_checkpoint.pth` ({"teacher": ...}) and official training checkpoints
// ({"model": {"teacher.*", "student.*"}}); the architecture comes from the weights' shapes.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { fmtShape, type HostTensor } from "../core/index.js";
import {
  CheckpointError,
  inferOptionsFromStateDict,
  openWeights,
  readArchMetadata,
  readSafetensorsMetadata,
  toOfficialStateDict,
  withLazy,
} from "../io/index.js";
import { backboneFromCheckpoint } from "../models/backbone.js";
import type { DinoHeadOptions } from "../nn/dino-head.js";
import { paramShapes } from "../nn/module.js";
import { type SslArch, SslModel } from "./ssl-model.js";

export interface SslNetwork {
  readonly arch: SslArch;
  /** Backbone and head weights under `backbone.*`, `dino_head.*`, `ibot_head.*`. */
  readonly weights: ReadonlyMap<string, HostTensor>;
  readonly file: string;
}

const PART =
  /^(?:model\.)?(?:(teacher|student)\.)?(?:module\.)?((?:backbone|dino_head|ibot_head)\..+)$/;

/**
 * Reads the `branch` network (default teacher) with its heads. Refuses a file without a DINO
 * head, and heads whose input width does not match the backbone, naming key and shapes.
 */
export function loadSslNetwork(
  path: string,
  o: { readonly numHeads?: number; readonly branch?: "teacher" | "student" } = {},
): SslNetwork {
  const branch = o.branch ?? "teacher";
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new CheckpointError(path, "is a model folder (backbone only); the heads are needed", {
      hint: "give a training checkpoint: teacher_checkpoint.pth, or ours (checkpoints/*.safetensors, eval/*/teacher_checkpoint.safetensors)",
    });
  // Only the branch's tensors are read from the file (not the other branch or optimizer state).
  const heads = new Map<string, HostTensor>();
  const backboneWeights = new Map<string, HostTensor>();
  withLazy(openWeights(path), (w) => {
    for (const [key, t] of w.tensors) {
      const m = PART.exec(key);
      if (!m || (m[1] && m[1] !== branch)) continue;
      if (m[2]!.startsWith("backbone.")) backboneWeights.set(key, t.load());
      else heads.set(m[2]!, t.load());
    }
  });
  const dinoHead = headOptions(heads, "dino_head", path);
  if (!dinoHead)
    throw new CheckpointError(path, `has no dino_head.* weights for the ${branch}`, {
      hint: "distillation and continued pretraining with heads need a training checkpoint (teacher_checkpoint.pth or ours)",
    });
  // Files this project wrote record the architecture (the head count is not in the shapes).
  const recorded = isZip(path) ? undefined : readArchMetadata(readSafetensorsMetadata(path), path);
  const backbone = backboneFrom(backboneWeights, path, o.numHeads ?? recorded?.numHeads);
  const ibotHead = headOptions(heads, "ibot_head", path);
  const options = backbone.options;
  const arch: SslArch = {
    backbone: options,
    dinoHead,
    ...(ibotHead ? { ibotHead } : {}),
  };
  for (const [name, h] of [
    ["dino_head", dinoHead],
    ["ibot_head", ibotHead],
  ] as const) {
    if (h && h.inDim !== options.embedDim)
      throw new CheckpointError(
        path,
        `${name} takes ${h.inDim}-wide input, but the backbone is ${options.embedDim} wide`,
        { key: `${name}.mlp.0.weight`, hint: "the heads do not belong to this backbone" },
      );
  }
  const weights = new Map<string, HostTensor>();
  for (const [k, t] of backbone.weights) weights.set(`backbone.${k}`, t);
  for (const [k, t] of heads) weights.set(k, t);
  const expected = paramShapes(new SslModel(arch));
  for (const [key, shape] of expected) {
    const t = weights.get(key);
    if (!t) throw new CheckpointError(path, "missing from the network", { key });
    if (fmtShape(t.shape) !== fmtShape(shape))
      throw new CheckpointError(
        path,
        `shape ${fmtShape(t.shape)} does not fit the network's ${fmtShape(shape)}`,
        { key },
      );
  }
  return { arch, weights, file: path };
}

/** The backbone part through the project's checkpoint rules (layouts, options, validation). */
function backboneFrom(
  weights: ReadonlyMap<string, HostTensor>,
  path: string,
  numHeads: number | undefined,
) {
  if (weights.size === 0)
    throw new CheckpointError(path, "has no backbone.* weights", {
      hint: "expected a training checkpoint with teacher.backbone.* (or backbone.*) keys",
    });
  const { layout, stateDict } = toOfficialStateDict(weights, { source: path });
  const options = inferOptionsFromStateDict(stateDict, {
    source: path,
    ...(numHeads ? { numHeads } : {}),
  });
  return backboneFromCheckpoint(
    { file: path, layout, stateDict, options },
    numHeads ? { numHeads } : {},
  );
}

/** A torch.save zip (PK magic), as opposed to a safetensors file. */
export function isZip(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(2);
    readSync(fd, b, 0, 2, 0);
    return b.toString("latin1") === "PK";
  } finally {
    closeSync(fd);
  }
}

/** DinoHead options from a head's weight shapes (mlp.0, 2, 4, ... and last_layer.weight_v). */
function headOptions(
  w: ReadonlyMap<string, HostTensor>,
  name: string,
  file: string,
): DinoHeadOptions | undefined {
  const v = w.get(`${name}.last_layer.weight_v`);
  if (!v) return undefined;
  const layers: HostTensor[] = [];
  for (let i = 0; w.has(`${name}.mlp.${i}.weight`); i += 2)
    layers.push(w.get(`${name}.mlp.${i}.weight`)!);
  if (layers.length === 0)
    throw new CheckpointError(file, `${name} has a last layer but no mlp.0.weight`, {
      key: `${name}.mlp.0.weight`,
    });
  const [outDim, bottleneckDim] = v.shape as [number, number];
  return {
    inDim: layers[0]!.shape[1]!,
    outDim,
    hiddenDim: layers.length > 1 ? layers[0]!.shape[0]! : bottleneckDim,
    bottleneckDim,
    nlayers: layers.length,
    ...(w.has(`${name}.mlp.0.bias`) ? {} : { mlpBias: false }),
  };
}
