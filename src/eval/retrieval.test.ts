import { describe, expect, it } from "vitest";
import { blankImage } from "./png.js";
import {
  averagePrecision,
  protocolTruth,
  rankDatabase,
  retrievalPicture,
  scoreRankings,
} from "./retrieval.js";

describe("retrieval metrics (revisited Oxford/Paris compute_map)", () => {
  it("AP is the trapezoid under precision-recall, by hand", () => {
    // Relevant at positions 0 and 2 of 2: j=0: (1 + 1/1)/2 · 1/2 = 0.5; j=1: (1/2 + 2/3)/2 · 1/2
    // = 7/24; AP = 19/24.
    expect(averagePrecision([0, 2], 2)).toBeCloseTo(19 / 24, 12);
    // One relevant at position 3: (0/3 + 1/4)/2 · 1 = 1/8.
    expect(averagePrecision([3], 1)).toBeCloseTo(1 / 8, 12);
    // A relevant image never retrieved still counts in the denominator: (1 + 1)/2 · 1/2 = 1/2.
    expect(averagePrecision([0], 2)).toBeCloseTo(0.5, 12);
  });

  it("removes junk from the ranking before scoring, and recall@k counts the first hit", () => {
    const ranking = Int32Array.from([0, 1, 2, 3, 4]);
    const s = scoreRankings(
      [ranking, ranking, ranking],
      [
        { relevant: [0, 2], junk: [] }, // ranks [0, 2]: 19/24
        { relevant: [0, 2], junk: [1] }, // ranks [0, 1]: 1
        { relevant: [3], junk: [] }, // rank [3]: 1/8
      ],
      [1, 5],
    );
    expect(s.ap[0]).toBeCloseTo(19 / 24, 12);
    expect(s.ap[1]).toBeCloseTo(1, 12);
    expect(s.ap[2]).toBeCloseTo(1 / 8, 12);
    expect(s.mAP).toBeCloseTo((19 / 24 + 1 + 1 / 8) / 3, 12);
    expect(s.recall[1]).toBeCloseTo(2 / 3, 12);
    expect(s.recall[5]).toBe(1);
  });

  it("scores Easy / Medium / Hard as revisitop does, skipping queries without positives", () => {
    const t = { easy: [0], hard: [2], junk: [4] };
    const ranking = [Int32Array.from([1, 2, 0, 4, 3])];
    // Easy: relevant {0}, junk {4, 2}: ranking 1, 0, 3 -> rank [1]: (0 + 1/2)/2 = 1/4.
    expect(scoreRankings(ranking, [protocolTruth(t, "easy")]).mAP).toBeCloseTo(0.25, 12);
    // Medium: relevant {0, 2}, junk {4}: 1, 2, 0, 3 -> ranks [1, 2]: 1/8 + 7/24 = 5/12.
    expect(scoreRankings(ranking, [protocolTruth(t, "medium")]).mAP).toBeCloseTo(5 / 12, 12);
    // Hard: relevant {2}, junk {4, 0}: 1, 2, 3 -> rank [1]: 1/4.
    expect(scoreRankings(ranking, [protocolTruth(t, "hard")]).mAP).toBeCloseTo(0.25, 12);
    const none = scoreRankings(
      [ranking[0]!, ranking[0]!],
      [
        { relevant: [], junk: [] },
        { relevant: [1], junk: [] },
      ],
    );
    expect(none.empty).toBe(1);
    expect(none.mAP).toBe(1);
  });

  it("ranks by dot product, ties to the lower row", () => {
    const db = Float32Array.from([1, 0, 0.6, 0.8, 0, 1, -1, 0]);
    const q = Float32Array.from([1, 0, 0, 1]);
    const [a, b] = rankDatabase(q, db, 2);
    expect(Array.from(a!)).toEqual([0, 1, 2, 3]);
    expect(Array.from(b!)).toEqual([2, 1, 0, 3]);
  });

  it("draws one framed row per query", () => {
    const im = blankImage(10, 10, [0, 0, 0]);
    const pic = retrievalPicture([
      {
        query: im,
        hits: [
          { image: im, kind: "relevant" },
          { image: im, kind: "other" },
        ],
      },
      { query: im, hits: [{ image: im, kind: "junk" }] },
    ]);
    expect(pic.height).toBeGreaterThan(2 * 16);
    const px = (x: number, y: number) =>
      Array.from(pic.data.subarray((y * pic.width + x) * 3, (y * pic.width + x) * 3 + 3));
    // Second cell of the first row: green frame at its top-left corner.
    const top = pic.height - (2 * 16 + 3 * 6);
    expect(px(6 + 16 + 6, top + 6)).toEqual([44, 160, 44]);
  });
});
