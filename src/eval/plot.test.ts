import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatTicks, lossCurveImage, lossCurvePng, plotLayout } from "./plot.js";
import { type RgbImage, readPng } from "./png.js";

const BLUE = [31, 119, 180];
const ORANGE = [255, 127, 14];

function count(img: RgbImage, rgb: number[]): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 3) {
    if (img.data[i] === rgb[0] && img.data[i + 1] === rgb[1] && img.data[i + 2] === rgb[2]) n++;
  }
  return n;
}

const curve = (n: number, scale: number) =>
  Array.from({ length: n }, (_, i) => scale * Math.exp(-i / 30) + 0.1);

describe("lossCurvePng", () => {
  it("writes a valid PNG of the requested size with one colour per series", () => {
    const path = join(mkdtempSync(join(tmpdir(), "plot-")), "loss.png");
    const series = [
      { name: "dino", values: curve(200, 5) },
      { name: "ibot", values: curve(150, 3) },
    ];
    lossCurvePng(series, path, { width: 500, height: 300, title: "loss", xLabel: "iteration" });
    expect(readFileSync(path).subarray(0, 8)).toEqual(
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    );
    const img = readPng(path);
    expect([img.width, img.height]).toEqual([500, 300]);
    expect(count(img, BLUE)).toBeGreaterThan(200);
    expect(count(img, ORANGE)).toBeGreaterThan(150);
  });

  it("draws a log-scale plot, leaving gaps at NaN, Infinity and non-positive values", () => {
    const values = curve(100, 100).map((v, i) =>
      i === 10 ? Number.NaN : i === 20 ? -1 : i === 30 ? Infinity : v,
    );
    const img = lossCurveImage([{ name: "loss", values }], { logScale: true });
    expect([img.width, img.height]).toEqual([640, 400]);
    expect(count(img, BLUE)).toBeGreaterThan(100);
  });

  it("copes with no series, one point and a constant series", () => {
    expect(lossCurveImage([]).width).toBe(640);
    expect(count(lossCurveImage([{ name: "one", values: [2] }]), BLUE)).toBeGreaterThan(0);
    expect(
      count(
        lossCurveImage([{ name: "flat", values: [1, 1, 1] }], { width: 200, height: 120 }),
        BLUE,
      ),
    ).toBeGreaterThan(0);
  });

  it("is deterministic", () => {
    const a = lossCurveImage([{ name: "a", values: curve(50, 2) }]);
    const b = lossCurveImage([{ name: "a", values: curve(50, 2) }]);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });
});

describe("plot layout", () => {
  const series = [
    { name: "dino_global_crops_loss", values: curve(100, 5) },
    { name: "ibot_loss", values: curve(100, 3) },
  ];

  it("puts the legend right of or under the axes, inside the image, never over the data", () => {
    const short = series.map((s, i) => ({ ...s, name: `s${i}` }));
    // The rule: a column right of the axes when it needs at most a third of the width. At 640 px
    // (text scale 2) "dino_global_crops_loss" makes the column 34·2 + 22·12 = 332 px > 640/3.
    for (const [width, height, ss, where] of [
      [640, 400, series, "under"],
      [900, 450, series, "under"],
      [300, 200, series, "under"],
      [640, 400, short, "right"],
      [480, 260, short, "right"],
    ] as const) {
      const { plot, legend } = plotLayout(ss, { width, height, title: "t", xLabel: "x" });
      expect(legend).not.toBeNull();
      if (where === "right") expect(legend!.x0).toBeGreaterThan(plot.x1);
      else expect(legend!.y0).toBeGreaterThan(plot.y1);
      expect(legend!.x0).toBeGreaterThanOrEqual(0);
      expect(legend!.x1).toBeLessThanOrEqual(width);
      expect(legend!.y1).toBeLessThanOrEqual(height);
      expect(plot.x1 - plot.x0).toBeGreaterThan(width / 2);
      expect(plot.y1 - plot.y0).toBeGreaterThan(height / 3);
    }
  });

  it("draws every series' swatch in the legend box and the lines only inside the axes", () => {
    const opts = { width: 640, height: 400 };
    const img = lossCurveImage(series, opts);
    const { plot, legend } = plotLayout(series, opts);
    let inLegend = 0;
    let outside = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const i = (y * img.width + x) * 3;
        const blue =
          img.data[i] === BLUE[0] && img.data[i + 1] === BLUE[1] && img.data[i + 2] === BLUE[2];
        if (!blue) continue;
        if (x >= legend!.x0 && x < legend!.x1 && y >= legend!.y0 && y < legend!.y1) inLegend++;
        else if (x < plot.x0 || x >= plot.x1 || y < plot.y0 || y >= plot.y1) outside++;
      }
    }
    expect(inLegend).toBeGreaterThan(10);
    expect(outside).toBe(0);
  });

  it("plots series at given x (e.g. evaluation iterations) and checks their length", () => {
    const img = lossCurveImage([{ name: "knn", x: [0, 100, 500], values: [0.2, 0.3, 0.4] }]);
    expect(count(img, BLUE)).toBeGreaterThan(100);
    expect(() => lossCurveImage([{ name: "knn", x: [0, 1], values: [0.2, 0.3, 0.4] }])).toThrow(
      /knn has 3 values but 2 x/,
    );
  });
});

describe("formatTicks", () => {
  it("gives linear ticks one number of decimals, tiny steps exponents, log ticks each their own", () => {
    expect(formatTicks([0, 0.5, 1, 1.5], false)).toEqual(["0.0", "0.5", "1.0", "1.5"]);
    expect(formatTicks([0, 200, 400], false)).toEqual(["0", "200", "400"]);
    expect(formatTicks([0, 0.0005, 0.001], false)).toEqual(["0", "5e-4", "1e-3"]);
    expect(formatTicks([0.0001, 0.01, 1, 100, 1e6], true)).toEqual([
      "1e-4",
      "0.01",
      "1",
      "100",
      "1e6",
    ]);
  });
});
