// A folder of images: recursive scan (top-level subfolders are classes, as torchvision's
// ImageFolder), sharp decoding, and undecodable files skipped and reported instead of thrown.
import { readdir, realpath, stat } from "node:fs/promises";
import { extname, join, relative, resolve, sep } from "node:path";
import { decodeImage, IMAGE_EXTENSIONS } from "../decode.js";
import { DataError } from "../errors.js";
import type { ImageDataset, ImageRecord, SkippedFile } from "./dataset.js";

/** A scanned folder: absolute file paths and their labels (-1 for files directly in the root). */
export interface ImageFolderSpec {
  readonly kind: "image-folder";
  readonly root: string;
  readonly files: readonly string[];
  readonly labels: readonly number[];
  readonly classNames: readonly string[];
}

export interface ScanImageFolderOptions {
  /** "first" (default): decode files in order until one succeeds; "all": decode every file. */
  readonly validate?: "first" | "all";
}

export interface ImageFolderScan {
  readonly spec: ImageFolderSpec;
  /** Files found undecodable during validation; they are left out of `spec.files`. */
  readonly skipped: readonly SkippedFile[];
}

/** Scans `root` recursively; fails with a DataError when it holds no decodable image. */
export async function scanImageFolder(
  root: string,
  opts: ScanImageFolderOptions = {},
): Promise<ImageFolderScan> {
  const abs = resolve(root);
  const info = await stat(abs).catch(() => null);
  if (!info?.isDirectory()) {
    throw new DataError("scanImageFolder", abs, "not a readable directory");
  }
  const found = (await walk(abs, new Set())).sort();
  if (found.length === 0) {
    throw new DataError(
      "scanImageFolder",
      abs,
      "no image files found",
      `expected files ending in ${IMAGE_EXTENSIONS.join(", ")}, in the folder or its subfolders`,
    );
  }
  const skipped: SkippedFile[] = [];
  const good: string[] = [];
  for (const file of found) {
    const mustCheck = opts.validate === "all" || good.length === 0;
    if (mustCheck) {
      const reason = await decodeImage(file).then(
        () => null,
        (e: unknown) => String((e as Error).message ?? e),
      );
      if (reason !== null) {
        skipped.push({ path: file, reason });
        continue;
      }
    }
    good.push(file);
  }
  if (good.length === 0) {
    throw new DataError(
      "scanImageFolder",
      abs,
      `none of the ${found.length} image files could be decoded`,
      `first failure: ${skipped[0]?.path}: ${skipped[0]?.reason}`,
    );
  }
  return { spec: labelFiles(abs, good), skipped };
}

/** The dataset over a scanned folder; a file that fails to decode yields null and is recorded. */
export function createImageFolderDataset(spec: ImageFolderSpec): ImageDataset {
  const skipped: SkippedFile[] = [];
  return {
    length: spec.files.length,
    classNames: spec.classNames,
    skipped,
    async get(index: number): Promise<ImageRecord | null> {
      const path = spec.files[index];
      if (path === undefined) {
        throw new RangeError(
          `image folder ${spec.root}: index ${index} out of [0, ${spec.files.length})`,
        );
      }
      try {
        return { ...(await decodeImage(path)), label: spec.labels[index] ?? -1 };
      } catch (e) {
        skipped.push({ path, reason: String((e as Error).message ?? e) });
        return null;
      }
    },
  };
}

/** Top-level subfolders become classes (sorted); files directly in the root get label -1. */
function labelFiles(root: string, files: readonly string[]): ImageFolderSpec {
  const classOf = (f: string): string | null => {
    const parts = relative(root, f).split(sep);
    return parts.length > 1 ? parts[0]! : null;
  };
  const classNames = [...new Set(files.map(classOf).filter((c) => c !== null))].sort();
  const index = new Map(classNames.map((c, i) => [c, i]));
  const labels = files.map((f) => {
    const c = classOf(f);
    return c === null ? -1 : index.get(c)!;
  });
  return { kind: "image-folder", root, files, labels, classNames };
}

/** Image files under `dir`, following symbolic links once (cycles are cut by real path). */
async function walk(dir: string, seen: Set<string>): Promise<string[]> {
  const real = await realpath(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    const isLink = e.isSymbolicLink();
    const s = isLink ? await stat(p).catch(() => null) : null;
    if (e.isDirectory() || s?.isDirectory()) out.push(...(await walk(p, seen)));
    else if ((e.isFile() || s?.isFile()) && IMAGE_EXTENSIONS.includes(extname(p).toLowerCase())) {
      out.push(p);
    }
  }
  return out;
}
