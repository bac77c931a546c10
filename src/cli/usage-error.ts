// UsageError: bad command-line input (unknown command, unknown flag, bad flag value).
// Printed without a stack; `hint` says how to get it right.

export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The flag or word at fault, e.g. "--batch" or "command". */
  readonly flag: string | undefined;
  readonly hint: string | undefined;

  constructor(what: string, ctx: { readonly flag?: string; readonly hint?: string } = {}) {
    super(ctx.hint ? `${what}\n  hint: ${ctx.hint}` : what);
    this.flag = ctx.flag;
    this.hint = ctx.hint;
  }
}
