// Durable atomic writes (as databases do): write a temporary file beside the target, fsync it,
// rename it over the target, then fsync the directory so the rename itself survives a power loss.
// Without the first fsync a crash can leave the renamed file empty; without the second, the old
// name can come back.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** Writes `chunks` to `path` atomically and durably (fsync file, rename, fsync directory). */
export function writeFileDurably(path: string, chunks: Uint8Array | readonly Uint8Array[]): void {
  const parts = chunks instanceof Uint8Array ? [chunks] : chunks;
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const fd = openSync(tmp, "w");
    try {
      for (const c of parts) {
        for (let at = 0; at < c.length; ) at += writeSync(fd, c, at, c.length - at);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dirname(path));
}

/**
 * Flushes a directory's entries (a rename into it) to disk. Windows cannot open a directory for
 * syncing (EISDIR/EPERM); there the rename is as durable as the OS makes it.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch (err) {
    if (process.platform === "win32") return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM") throw err;
  } finally {
    closeSync(fd);
  }
}
