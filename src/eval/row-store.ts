// Fixed-size float32 rows on disk: features and targets of every image are written once and read
// back batch by batch, so head training holds one batch in memory, not the folder.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** An append-only file of rows of `rowLength` float32 values, with random-access reads. */
export class RowStore {
  private readonly fd: number;
  private count = 0;

  private constructor(
    private readonly dir: string,
    readonly rowLength: number,
  ) {
    this.fd = openSync(join(dir, "rows.f32"), "w+");
  }

  /** A store in a fresh temporary folder; `release()` deletes it. */
  static create(rowLength: number, prefix = "dinov2-rows-"): RowStore {
    if (!Number.isInteger(rowLength) || rowLength < 1) {
      throw new RangeError(`RowStore: rowLength must be a positive integer; got ${rowLength}`);
    }
    return new RowStore(mkdtempSync(join(tmpdir(), prefix)), rowLength);
  }

  get length(): number {
    return this.count;
  }

  /** Appends whole rows (`rows.length` a multiple of rowLength). */
  append(rows: Float32Array): void {
    if (rows.length % this.rowLength !== 0) {
      throw new RangeError(
        `RowStore.append: ${rows.length} values is not a whole number of rows of ${this.rowLength}`,
      );
    }
    const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
    writeSync(this.fd, bytes, 0, bytes.length, this.count * this.rowLength * 4);
    this.count += rows.length / this.rowLength;
  }

  /** Rows `indices` in that order, written into `out` (allocated when absent). */
  read(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const dst = out ?? new Float32Array(indices.length * this.rowLength);
    const rowBytes = this.rowLength * 4;
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i]!;
      if (r < 0 || r >= this.count) {
        throw new RangeError(`RowStore.read: row ${r} out of range [0, ${this.count})`);
      }
      const view = new Uint8Array(dst.buffer, dst.byteOffset + i * rowBytes, rowBytes);
      readSync(this.fd, view, 0, rowBytes, r * rowBytes);
    }
    return dst;
  }

  release(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
