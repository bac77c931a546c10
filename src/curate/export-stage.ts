// `curate export`: a curated table as a file list and a folder of symbolic links, the form
// `dinov2 train --data` reads (files directly in the folder: unlabeled). Sharded by row: each
// worker links its rows; the merge checks them all, drops stale links and writes files.txt.
import { mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { CurateError } from "./errors.js";
import { ownsRow, type Shard, SINGLE } from "./shard.js";
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
  await exportPart(store, table, out, SINGLE);
  return mergeExport(store, table, out);
}

/** The table to export and its rows in id order (ids, absolute paths, link names). */
async function exportRows(
  store: CurateStore,
  table: string | undefined,
): Promise<{ from: string; targets: string[]; links: string[] }> {
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
  const targets = Array.from(order, (i) => resolve(paths[i]!));
  const links = Array.from(
    order,
    (i, r) => `${String(ids[i]).padStart(8, "0")}-${basename(targets[r]!)}`,
  );
  return { from, targets, links };
}

/** This shard's links (rows in id order, row r mod N = I); other shards' links are left alone. */
export async function exportPart(
  store: CurateStore,
  table: string | undefined,
  out: string,
  shard: Shard,
): Promise<number> {
  const { targets, links } = await exportRows(store, table);
  const imagesDir = join(resolve(out), "images");
  await mkdir(imagesDir, { recursive: true });
  let n = 0;
  for (let r = 0; r < links.length; r++) {
    if (!ownsRow(shard, r)) continue;
    const link = join(imagesDir, links[r]!);
    await rm(link, { force: true });
    await symlink(targets[r]!, link);
    n++;
  }
  return n;
}

/** Checks every row has its link, removes links of no row (an older export), writes files.txt. */
export async function mergeExport(
  store: CurateStore,
  table: string | undefined,
  out: string,
): Promise<Exported> {
  const { from, targets, links } = await exportRows(store, table);
  const imagesDir = join(resolve(out), "images");
  const present = new Set(await readdir(imagesDir).catch(() => [] as string[]));
  const missing = links.filter((l) => !present.has(l));
  if (missing.length > 0) {
    throw new CurateError(
      "export --merge",
      `${missing.length} of ${links.length} links are missing in ${imagesDir} (e.g. ${missing[0]})`,
      "run `dinov2 curate export --shard I/N` for every I first, with the same --from and --output",
    );
  }
  const wanted = new Set(links);
  for (const old of present) if (!wanted.has(old)) await rm(join(imagesDir, old), { force: true });
  const listPath = join(resolve(out), "files.txt");
  await writeFile(listPath, `${targets.join("\n")}\n`);
  return { table: from, files: targets.length, listPath, imagesDir };
}
