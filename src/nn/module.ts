// Module and Param: parameters are discovered from a module's own fields (like a state_dict),
// named by their path in snake_case, and bound to graph tensors per graph that is built.
import {
  constant,
  type DType,
  type HostTensor,
  InternalError,
  input,
  type Shape,
  type Tensor,
} from "../core/index.js";
import type { Init } from "./init.js";

/** A learnable tensor: its shape and initialiser; bound to a graph tensor while a graph is built. */
export class Param {
  private bound: Tensor | undefined;

  constructor(
    readonly shape: Shape,
    readonly init: Init,
    readonly dtype: DType = "float32",
  ) {}

  /** The graph tensor this parameter is bound to. */
  get t(): Tensor {
    if (!this.bound) {
      throw new InternalError(
        "parameter used before bindParams()/bindWeights() bound it to a graph",
      );
    }
    return this.bound;
  }

  bind(t: Tensor): void {
    this.bound = t;
  }
}

/** Base of every layer: holds Params and child Modules as fields. */
export abstract class Module {}

/** camelCase field -> snake_case key (`patchEmbed` -> `patch_embed`, `fc1` stays). */
export function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Every parameter with its state_dict key, in field insertion order. */
export function namedParams(module: Module, prefix = ""): [string, Param][] {
  const out: [string, Param][] = [];
  for (const [field, value] of Object.entries(module)) {
    const key = prefix + snakeCase(field);
    collect(value, key, out);
  }
  return out;
}

function collect(value: unknown, key: string, out: [string, Param][]): void {
  if (value instanceof Param) out.push([key, value]);
  else if (value instanceof Module) out.push(...namedParams(value, `${key}.`));
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) collect(v, `${key}.${i}`, out);
  }
}

/** Binds every parameter to a graph input named `prefix + key`; returns them by key. */
export function bindInputs(module: Module, prefix = ""): Map<string, Tensor> {
  const map = new Map<string, Tensor>();
  for (const [key, p] of namedParams(module)) {
    const t = input(prefix + key, p.shape, p.dtype);
    p.bind(t);
    map.set(key, t);
  }
  return map;
}

/** Binds every parameter to a constant holding its weights (inference graphs, ONNX export). */
export function bindConstants(module: Module, weights: ReadonlyMap<string, HostTensor>): void {
  for (const [key, p] of namedParams(module)) {
    const w = weights.get(key);
    if (!w)
      throw new InternalError(`no weights for ${key}; validate the state dict before binding`);
    p.bind(constant(w));
  }
}

/** The expected shape of every parameter, for checkpoint validation. */
export function paramShapes(module: Module): Map<string, Shape> {
  return new Map(namedParams(module).map(([k, p]) => [k, p.shape]));
}
