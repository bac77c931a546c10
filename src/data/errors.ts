// The error of the data pipeline: a dataset that cannot be opened or read, naming the path.

/** A dataset or image source the user pointed at cannot be used; carries the path and a hint. */
export class DataError extends Error {
  override readonly name = "DataError";
  readonly path: string;
  readonly hint: string | undefined;

  constructor(op: string, path: string, what: string, hint?: string) {
    super(`${op}: ${what}\n  at ${path}${hint ? `\n  hint: ${hint}` : ""}`);
    this.path = path;
    this.hint = hint;
  }
}
