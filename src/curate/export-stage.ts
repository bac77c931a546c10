// `curate export`: a curated table as a file list and a folder of symbolic links, the form
// `dinov2 train --data` reads (files directly in the folder: unlabeled).
import { mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { CurateError } from "./errors.js";
import { type CurateStore, column } from "./store.js";

export const EXPORTABLE = ["retrieved", "sampled", "dedup_kept"] as const;

export interface Exported {
  readonly table: string;
  readonly files: number;
  readonly listPath: string;
  readonly imagesDir: string;
}

/** Writes `<out>/files.txt` and `<out>/images/<id>-<name>` links for every row of `table`. */
export async function exportStage(
  store: CurateStore,
  table: string | undefined,
  out: string,
): Promise<Exported> {
  const names = await store.names();
  const from = table ?? EXPORTABLE.find((t) => names.includes(t));
  if (!from || !names.includes(from)) {
    throw new CurateError(
      table ? `--from ${table}` : "export",
      table
        ? `table "${table}" not found in ${store.uri}`
        : `none of ${EXPORTABLE.join(", ")} exists in ${store.uri}`,
      "run `dinov2 curate retrieve` (with a curated set), `curate sample`, or at least `curate dedup` first",
    );
  }
  const t = await store.read(from, ["id", "path"]);
  const ids = column<number>(t, "id");
  const paths = column<string>(t, "path");
  const order = Int32Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
  if (order.length === 0) throw new CurateError(`table "${from}"`, "is empty: nothing to export");
  const imagesDir = join(resolve(out), "images");
  await mkdir(imagesDir, { recursive: true });
  for (const old of await readdir(imagesDir)) await rm(join(imagesDir, old), { force: true });
  const list: string[] = [];
  for (const i of order) {
    const target = resolve(paths[i]!);
    list.push(target);
    await symlink(
      target,
      join(imagesDir, `${String(ids[i]).padStart(8, "0")}-${basename(target)}`),
    );
  }
  const listPath = join(resolve(out), "files.txt");
  await writeFile(listPath, `${list.join("\n")}\n`);
  return { table: from, files: list.length, listPath, imagesDir };
}
