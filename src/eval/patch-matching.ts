// Patch matching between two images (the paper's Fig. 10): mutual nearest neighbours of the patch
// features by cosine similarity, and a picture with lines between the matched patch centres.
import { ShapeError } from "../core/errors.js";
import { nearestNeighbours } from "./knn.js";
import { fillDisc, strokePolyline } from "./raster.js";
import { blankImage, paste, type Rgb, type RgbImage } from "./rgb-image.js";

export interface PatchMatch {
  /** Patch index in image A / image B (row-major over the patch grid). */
  readonly a: number;
  readonly b: number;
  readonly similarity: number;
}

export interface PatchGrid {
  readonly gridH: number;
  readonly gridW: number;
}

export interface MatchPictureOptions {
  /** Draw at most this many matches, the most similar first. */
  readonly maxLines?: number;
  readonly gapPx?: number;
}

/** Pairs (i, j) where j is i's most similar patch in B and i is j's in A; best first. */
export function mutualNearestPatches(a: Float32Array, b: Float32Array, dim: number): PatchMatch[] {
  const na = a.length / dim;
  const nb = b.length / dim;
  if (!Number.isInteger(na) || !Number.isInteger(nb) || na === 0 || nb === 0) {
    throw new ShapeError(
      "mutualNearestPatches",
      `patch features of ${a.length} and ${b.length} values are not [P, ${dim}]`,
    );
  }
  const ab = nearestNeighbours(b, nb, a, na, dim, 1);
  const ba = nearestNeighbours(a, na, b, nb, dim, 1);
  const out: PatchMatch[] = [];
  for (let i = 0; i < na; i++) {
    const j = ab.indices[i]!;
    if (ba.indices[j] === i) out.push({ a: i, b: j, similarity: ab.sims[i]! });
  }
  return out.sort((x, y) => y.similarity - x.similarity || x.a - y.a);
}

/**
 * Images A and B side by side with a line from each matched patch centre in A to its match in B.
 * Patch centres scale with each image's size, so any input resolution works.
 */
export function drawPatchMatches(
  imageA: RgbImage,
  gridA: PatchGrid,
  imageB: RgbImage,
  gridB: PatchGrid,
  matches: readonly PatchMatch[],
  opts: MatchPictureOptions = {},
): RgbImage {
  const gap = opts.gapPx ?? 8;
  const out = blankImage(imageA.width + gap + imageB.width, Math.max(imageA.height, imageB.height));
  paste(out, imageA, 0, 0);
  paste(out, imageB, imageA.width + gap, 0);
  const shown = matches.slice(0, opts.maxLines ?? 40);
  shown.forEach((m, n) => {
    const [ax, ay] = patchCentre(m.a, gridA, imageA);
    const [bx, by] = patchCentre(m.b, gridB, imageB);
    const colour = hue(n / Math.max(1, shown.length));
    const x1 = bx + imageA.width + gap;
    strokePolyline(out, [ax, ay, x1, by], colour, 1.5);
    fillDisc(out, ax, ay, 2.5, colour);
    fillDisc(out, x1, by, 2.5, colour);
  });
  return out;
}

function patchCentre(index: number, grid: PatchGrid, img: RgbImage): [number, number] {
  const row = Math.floor(index / grid.gridW);
  const col = index % grid.gridW;
  return [((col + 0.5) * img.width) / grid.gridW, ((row + 0.5) * img.height) / grid.gridH];
}

/** A saturated colour at hue t in [0, 1). */
function hue(t: number): Rgb {
  const f = (k: number) => {
    const x = (k + t * 6) % 6;
    return Math.round(255 * Math.max(0, Math.min(1, Math.abs(x - 3) - 1)));
  };
  return [f(0), f(4), f(2)];
}
