// What to embed: files and folders named on the command line, expanded to a sorted file list.
// Files in folders without an image extension are reported as skipped, never silently dropped.
import { readdir, realpath, stat } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import type { SkippedFile } from "../data/datasets/dataset.js";
import { IMAGE_EXTENSIONS } from "../data/decode.js";
import { DataError } from "../data/errors.js";

export interface ImageInputs {
  /** Files to decode: every named file, and folder files with an image extension, sorted. */
  readonly files: readonly string[];
  /** Folder files that are not images by their extension. */
  readonly skipped: readonly SkippedFile[];
}

/** Expands `inputs` (files or folders, searched recursively; dot files ignored). */
export async function listImageInputs(inputs: readonly string[]): Promise<ImageInputs> {
  if (inputs.length === 0)
    throw new DataError("embed", "(input)", "no input given", "name image files or folders");
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const input of inputs) {
    const path = resolve(input);
    const info = await stat(path).catch(() => null);
    if (!info) throw new DataError("embed", path, "no such file or folder");
    if (info.isDirectory()) await walk(path, files, skipped, new Set());
    else files.push(path);
  }
  if (files.length === 0) {
    const what =
      skipped.length === 0 ? "no files found" : `none of the ${skipped.length} files is an image`;
    throw new DataError(
      "embed",
      inputs.join(", "),
      what,
      `expected files ending in ${IMAGE_EXTENSIONS.join(", ")}`,
    );
  }
  return { files, skipped };
}

/** Recursive, following symbolic links; `seen` real paths cut cycles. */
async function walk(
  dir: string,
  files: string[],
  skipped: SkippedFile[],
  seen: Set<string>,
): Promise<void> {
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    const info = e.isSymbolicLink() ? await stat(path).catch(() => null) : e;
    if (info?.isDirectory()) await walk(path, files, skipped, seen);
    else if (!info?.isFile()) continue;
    else if (IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) files.push(path);
    else skipped.push({ path, reason: `not an image file (extension "${extname(e.name)}")` });
  }
}
