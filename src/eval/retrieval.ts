// Instance retrieval metrics, the revisited Oxford/Paris protocol (Radenović et al. 2018,
// revisitop's compute_map): the database ranked by cosine similarity to each query; junk images
// are removed from the ranking before scoring; AP is the trapezoidal area under precision–recall;
// mAP averages it over queries with ≥ 1 relevant image. Easy / Medium / Hard protocols:
//   Easy: relevant = easy, junk += hard;  Medium: relevant = easy + hard;  Hard: relevant = hard,
//   junk += easy. Recall@k: the fraction of queries with a relevant image in the top k (junk removed).
import { ShapeError } from "../core/index.js";
import { blankImage, imageGrid, paste, type Rgb, type RgbImage } from "./png.js";
import { drawText, textHeight, textWidth } from "./raster.js";

/** One query's ground truth as database row indices. */
export interface QueryTruth {
  readonly relevant: readonly number[];
  readonly junk: readonly number[];
}

/** A query with the revisited splits (database row indices). */
export interface RevisitedTruth {
  readonly easy: readonly number[];
  readonly hard: readonly number[];
  readonly junk: readonly number[];
}

export type Protocol = "easy" | "medium" | "hard";

/** The ground truth of one revisited protocol. */
export function protocolTruth(t: RevisitedTruth, p: Protocol): QueryTruth {
  if (p === "easy") return { relevant: t.easy, junk: [...t.junk, ...t.hard] };
  if (p === "medium") return { relevant: [...t.easy, ...t.hard], junk: t.junk };
  return { relevant: t.hard, junk: [...t.junk, ...t.easy] };
}

/**
 * revisitop's compute_ap: `ranks` are the 0-based positions of the relevant images in the ranking
 * (junk removed), ascending; `nRelevant` how many relevant images there are.
 */
export function averagePrecision(ranks: readonly number[], nRelevant: number): number {
  let ap = 0;
  const step = 1 / nRelevant;
  ranks.forEach((rank, j) => {
    const p0 = rank === 0 ? 1 : j / rank;
    const p1 = (j + 1) / (rank + 1);
    ap += ((p0 + p1) * step) / 2;
  });
  return ap;
}

export interface RetrievalScores {
  /** Mean AP over queries with ≥ 1 relevant image (0..1). */
  readonly mAP: number;
  /** k -> fraction of those queries with a relevant image in the top k. */
  readonly recall: Readonly<Record<number, number>>;
  readonly ap: readonly number[];
  /** Queries without a relevant image, left out of the means. */
  readonly empty: number;
}

/** Scores rankings (each a permutation of database rows, best first) against the truth. */
export function scoreRankings(
  rankings: readonly Int32Array[],
  truth: readonly QueryTruth[],
  ks: readonly number[] = [1, 5, 10],
): RetrievalScores {
  if (rankings.length !== truth.length) {
    throw new ShapeError(
      "scoreRankings",
      `got ${rankings.length} rankings for ${truth.length} queries`,
    );
  }
  const ap: number[] = [];
  const hits = ks.map(() => 0);
  let empty = 0;
  rankings.forEach((ranking, q) => {
    const t = truth[q]!;
    const relevant = new Set(t.relevant);
    if (relevant.size === 0) {
      empty++;
      ap.push(Number.NaN);
      return;
    }
    const junk = new Set(t.junk.filter((j) => !relevant.has(j)));
    const ranks: number[] = [];
    let pos = 0;
    for (const row of ranking) {
      if (junk.has(row)) continue;
      if (relevant.has(row)) ranks.push(pos);
      pos++;
    }
    ap.push(averagePrecision(ranks, relevant.size));
    ks.forEach((k, i) => {
      if (ranks.length > 0 && ranks[0]! < k) hits[i]!++;
    });
  });
  const n = rankings.length - empty;
  const scored = ap.filter((x) => !Number.isNaN(x));
  return {
    mAP: n === 0 ? 0 : scored.reduce((a, b) => a + b, 0) / n,
    recall: Object.fromEntries(ks.map((k, i) => [k, n === 0 ? 0 : hits[i]! / n])),
    ap,
    empty,
  };
}

/**
 * Every query's database rows ordered by descending dot product (ties: lower row first). Pass
 * L2-normalised rows for cosine similarity.
 */
export function rankDatabase(
  queries: Float32Array,
  database: Float32Array,
  dim: number,
): Int32Array[] {
  const nq = queries.length / dim;
  const nd = database.length / dim;
  if (!Number.isInteger(nq) || !Number.isInteger(nd)) {
    throw new ShapeError(
      "rankDatabase",
      `feature arrays of ${queries.length} and ${database.length} values are not rows of ${dim}`,
    );
  }
  const sims = new Float64Array(nd);
  const out: Int32Array[] = [];
  for (let q = 0; q < nq; q++) {
    for (let r = 0; r < nd; r++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[q * dim + d]! * database[r * dim + d]!;
      sims[r] = s;
    }
    const order = Int32Array.from({ length: nd }, (_, i) => i);
    order.sort((a, b) => sims[b]! - sims[a]! || a - b);
    out.push(order);
  }
  return out;
}

/** Rows scaled to unit L2 norm (torch F.normalize, eps 1e-12), in place; returns `x`. */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < x.length / dim; r++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += x[r * dim + d]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let d = 0; d < dim; d++) x[r * dim + d]! *= inv;
  }
  return x;
}

/** How a shown database image relates to its query. */
export type HitKind = "relevant" | "junk" | "other";

const FRAME: Readonly<Record<HitKind | "query", Rgb>> = {
  query: [31, 119, 180],
  relevant: [44, 160, 44],
  junk: [150, 150, 150],
  other: [214, 39, 40],
};

/**
 * One row per query: the query (blue frame), then its top database images framed green
 * (relevant), red (not relevant) or grey (junk), under a one-line key.
 */
export function retrievalPicture(
  rows: readonly {
    readonly query: RgbImage;
    readonly hits: readonly { readonly image: RgbImage; readonly kind: HitKind }[];
  }[],
): RgbImage {
  const grid = imageGrid(
    rows.map((r) => [
      framed(r.query, FRAME.query),
      ...r.hits.map((h) => framed(h.image, FRAME[h.kind])),
    ]),
    { gapPx: 6 },
  );
  const key = "query (blue) | top hits: green relevant, red not, grey junk";
  const top = textHeight(1) + 8;
  const out = blankImage(Math.max(grid.width, textWidth(key, 1) + 12), grid.height + top);
  drawText(out, key, 6, 4, [40, 40, 40], 1);
  paste(out, grid, 0, top);
  return out;
}

function framed(img: RgbImage, colour: Rgb, border = 3): RgbImage {
  const out = blankImage(img.width + 2 * border, img.height + 2 * border, colour);
  paste(out, img, border, border);
  return out;
}
