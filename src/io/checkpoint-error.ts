// The error of checkpoint I/O: a file (and maybe a key inside it) that cannot be read as claimed.

/** A checkpoint file is malformed, refused or does not fit the model; names the file and key. */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  /** The file (or directory) at fault, as the caller named it. */
  readonly file: string;
  /** The tensor key or config field at fault, when there is one. */
  readonly key: string | undefined;
  readonly hint: string | undefined;

  constructor(file: string, what: string, opts: { key?: string; hint?: string } = {}) {
    super(formatCheckpointMessage(file, what, opts.key, opts.hint));
    this.file = file;
    this.key = opts.key;
    this.hint = opts.hint;
  }
}

function formatCheckpointMessage(
  file: string,
  what: string,
  key: string | undefined,
  hint: string | undefined,
): string {
  let msg = key === undefined ? `${file}: ${what}` : `${file}: key "${key}": ${what}`;
  if (hint) msg += `\n  hint: ${hint}`;
  return msg;
}
