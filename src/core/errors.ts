// The error kinds of graph building: user mistakes (shape, dtype) and broken invariants.

export interface ErrorContext {
  /** Shapes/dtypes of the op's inputs, e.g. ["f32[2,3]", "f32[4]"]. */
  readonly inputs?: readonly string[];
  /** Module path active when the node was built, e.g. "student.backbone.blocks.0.attn". */
  readonly scope?: string;
  readonly hint?: string;
}

function formatMessage(op: string, what: string, ctx: ErrorContext): string {
  let msg = `${op}: ${what}`;
  if (ctx.scope) msg += `\n  at ${ctx.scope}`;
  if (ctx.hint) msg += `\n  hint: ${ctx.hint}`;
  return msg;
}

/** A graph was built with incompatible shapes. Carries the op, the inputs and the module path. */
export class ShapeError extends Error {
  override readonly name = "ShapeError";
  readonly op: string;
  readonly inputs: readonly string[];
  readonly scope: string;
  readonly hint: string | undefined;

  constructor(op: string, what: string, ctx: ErrorContext = {}) {
    super(formatMessage(op, what, ctx));
    this.op = op;
    this.inputs = ctx.inputs ?? [];
    this.scope = ctx.scope ?? "";
    this.hint = ctx.hint;
  }
}

/** A graph was built with an element type the op does not accept. */
export class DTypeError extends Error {
  override readonly name = "DTypeError";
  readonly op: string;
  readonly scope: string;

  constructor(op: string, what: string, ctx: ErrorContext = {}) {
    super(formatMessage(op, what, ctx));
    this.op = op;
    this.scope = ctx.scope ?? "";
  }
}

/** A broken invariant inside dinov2-ts: a bug, never a user mistake. */
export class InternalError extends Error {
  override readonly name = "InternalError";
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond)
    throw new InternalError(`internal invariant failed: ${msg} (this is a bug in dinov2-ts)`);
}
