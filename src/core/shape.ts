// Static shapes: broadcasting, axis normalisation, formatting.
import { ShapeError } from "./errors.js";

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy broadcasting of two shapes; null when they do not broadcast. */
export function tryBroadcastShapes(a: Shape, b: Shape): Shape | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Resolves a possibly negative axis against a rank; throws a ShapeError naming the op. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(op, `axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

export function isPermutation(perm: readonly number[], rank: number): boolean {
  if (perm.length !== rank) return false;
  const seen = new Set(perm);
  return seen.size === rank && perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank);
}

export function argsort(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}
