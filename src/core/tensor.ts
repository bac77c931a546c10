// Tensor: an immutable node of the traced graph (op, inputs, attrs, shape, dtype, module path).
import type { DType } from "./dtype.js";
import { DTYPE_SHORT } from "./dtype.js";
import type { OpDef } from "./op.js";
import type { Shape } from "./shape.js";

export interface ValueType {
  readonly shape: Shape;
  readonly dtype: DType;
}

const scopeStack: string[] = [];

/** A value in a traced graph. Built only by ops; never mutated. */
export class Tensor implements ValueType {
  readonly scope: string;

  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: the node stores its op erased; apply() typed it.
    readonly op: OpDef<any>,
    readonly inputs: readonly Tensor[],
    readonly attrs: object,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {
    this.scope = currentScope();
  }

  get rank(): number {
    return this.shape.length;
  }

  /** `f32[2,3]`: the type as the printer and error messages show it. */
  get typeString(): string {
    return fmtType(this);
  }
}

export function fmtType(t: ValueType): string {
  return `${DTYPE_SHORT[t.dtype]}[${t.shape.join(",")}]`;
}

/** Runs `fn` with `name` appended to the module path that tags every node built inside it. */
export function withScope<T>(name: string, fn: () => T): T {
  scopeStack.push(name);
  try {
    return fn();
  } finally {
    scopeStack.pop();
  }
}

export function currentScope(): string {
  return scopeStack.filter((s) => s.length > 0).join(".");
}
