// The error of the curation stages: names the flag, table or path at fault and what to do.

export class CurateError extends Error {
  override readonly name = "CurateError";
  readonly where: string;
  readonly hint: string | undefined;

  constructor(where: string, what: string, hint?: string) {
    super(`curate: ${where}: ${what}${hint ? `\n  hint: ${hint}` : ""}`);
    this.where = where;
    this.hint = hint;
  }
}
