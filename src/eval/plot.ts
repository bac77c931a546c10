// Loss curves as PNG, drawn by hand: axes with "nice" ticks (linear or log10), grid lines, one
// colour per series and a legend in its own box right of or under the axes (never over the data);
// non-finite (and, on a log axis, non-positive) values are gaps.

import { writeFileSync } from "node:fs";
import { blankImage, encodePng, type Rgb, type RgbImage } from "./png.js";
import {
  drawText,
  fillRect,
  type Rect,
  strokePolyline,
  strokeRect,
  textHeight,
  textWidth,
} from "./raster.js";

export interface Series {
  readonly name: string;
  /** y at x = 0, 1, 2, ... (iterations), or at `x` when given. */
  readonly values: readonly number[];
  /** x of each value (same length, increasing); default 0, 1, 2, ... */
  readonly x?: readonly number[];
}

export interface PlotOptions {
  readonly width?: number;
  readonly height?: number;
  readonly logScale?: boolean;
  readonly title?: string;
  readonly xLabel?: string;
  /** Fixed y range [lo, hi] (e.g. [0, 1] for accuracies); default: fitted to the data. */
  readonly yRange?: readonly [number, number];
}

/** matplotlib's tab10 colours. */
const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [228, 228, 228];
const MINOR: Rgb = [242, 242, 242];

/** Renders the series as a line plot and writes it to `path` as PNG. */
export function lossCurvePng(
  series: readonly Series[],
  path: string,
  opts: PlotOptions = {},
): void {
  writeFileSync(path, encodePng(lossCurveImage(series, opts)));
}

/** Where a plot's axes and its legend go: side by side or one above the other, never overlapping. */
export interface PlotLayout {
  readonly plot: Rect;
  /** The legend's box, right of the axes or under them; null without series. */
  readonly legend: Rect | null;
}

/** The layout `lossCurveImage` draws with (exported for tests and figure composition). */
export function plotLayout(series: readonly Series[], opts: PlotOptions = {}): PlotLayout {
  const { plot, legend } = layout(series, opts);
  return { plot, legend };
}

function layout(series: readonly Series[], opts: PlotOptions) {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const scale = Math.min(width, height) >= 360 ? 2 : 1;
  const isLog = opts.logScale ?? false;
  for (const s of series) {
    if (s.x && s.x.length !== s.values.length)
      throw new RangeError(
        `plot: series ${s.name} has ${s.values.length} values but ${s.x.length} x`,
      );
  }
  const y = opts.yRange ? linearTicks(opts.yRange[0], opts.yRange[1], 6) : yAxis(series, isLog);
  const xs = series.flatMap((s) => s.values.map((_, k) => s.x?.[k] ?? k));
  const xMin = xs.length ? Math.min(0, ...xs) : 0;
  const xMax = Math.max(xMin + 1, ...xs);
  const th = textHeight(scale);
  // The legend: a column right of the axes when it takes at most a third of the width, else
  // rows of entries under the axes. Either way it never covers data.
  const right = legendWidth(series, scale) <= width / 3;
  const entries = legendEntries(series, scale, right ? 0 : width - 20 * scale);
  const legendW = Math.max(0, ...entries.map((e) => e.x + e.w)) + (entries.length ? 6 * scale : 0);
  const legendH = Math.max(0, ...entries.map((e) => e.y)) + (entries.length ? th + 12 * scale : 0);
  const sideW = right && entries.length ? legendW + 8 * scale : 0;
  const x = linearTicks(xMin, xMax, Math.max(2, Math.floor((width - sideW) / 120)), true, 1);
  const left =
    10 * scale +
    Math.max(
      ...formatTicks(
        y.ticks.map((t) => t.value),
        isLog,
      ).map((l) => textWidth(l, scale)),
    );
  const top = opts.title ? th + 12 * scale : 8 * scale;
  const below = !right && entries.length ? legendH + 6 * scale : 0;
  const bottom = th + 10 * scale + (opts.xLabel ? th + 6 * scale : 0) + below;
  const plot: Rect = { x0: left, y0: top, x1: width - 10 * scale - sideW, y1: height - bottom };
  const lx = right ? plot.x1 + 8 * scale : Math.max(0, (width - legendW) >> 1);
  const ly = right ? plot.y0 : height - legendH - 4 * scale;
  const legend: Rect | null = entries.length
    ? { x0: lx, y0: ly, x1: lx + legendW, y1: ly + legendH }
    : null;
  return { width, height, scale, isLog, x, y, th, plot, legend, entries };
}

/** The line plot of `lossCurvePng` as an image. */
export function lossCurveImage(series: readonly Series[], opts: PlotOptions = {}): RgbImage {
  const { width, height, scale, isLog, x, y, th, plot, legend, entries } = layout(series, opts);
  const img = blankImage(width, height);
  const px = (v: number) => plot.x0 + ((v - x.lo) / (x.hi - x.lo)) * (plot.x1 - plot.x0 - 1);
  const py = (v: number) =>
    plot.y1 - 1 - ((y.map(v) - y.lo) / (y.hi - y.lo)) * (plot.y1 - plot.y0 - 1);
  for (const m of y.minor) fillRect(img, plot.x0, Math.round(py(m)), plot.x1 - plot.x0, 1, MINOR);
  const yLabels = formatTicks(
    y.ticks.map((t) => t.value),
    isLog,
  );
  y.ticks.forEach((t, i) => {
    const ty = Math.round(py(t.value));
    fillRect(img, plot.x0, ty, plot.x1 - plot.x0, 1, GRID);
    const label = yLabels[i]!;
    drawText(img, label, plot.x0 - 5 * scale - textWidth(label, scale), ty - (th >> 1), INK, scale);
  });
  const xLabels = formatTicks(
    x.ticks.map((t) => t.value),
    false,
  );
  x.ticks.forEach((t, i) => {
    const tx = Math.round(px(t.value));
    fillRect(img, tx, plot.y0, 1, plot.y1 - plot.y0, GRID);
    fillRect(img, tx, plot.y1, 1, 3 * scale, INK);
    const label = xLabels[i]!;
    drawText(img, label, tx - (textWidth(label, scale) >> 1), plot.y1 + 5 * scale, INK, scale);
  });
  series.forEach((s, i) => {
    for (const run of finiteRuns(s, isLog)) {
      const pts = run.flatMap(([k, v]) => [px(k), py(v)]);
      strokePolyline(
        img,
        pts.length === 2 ? [...pts, ...pts] : pts,
        PALETTE[i % PALETTE.length]!,
        1.5 * scale,
        plot,
      );
    }
  });
  strokeRect(img, plot.x0, plot.y0, plot.x1 - plot.x0, plot.y1 - plot.y0, INK);
  if (opts.title)
    drawText(img, opts.title, (width - textWidth(opts.title, scale)) >> 1, 5 * scale, INK, scale);
  if (opts.xLabel) {
    const w = textWidth(opts.xLabel, scale);
    drawText(img, opts.xLabel, (plot.x0 + plot.x1 - w) >> 1, height - th - 4 * scale, INK, scale);
  }
  if (legend) drawLegend(img, series, legend, entries, scale);
  return img;
}

/**
 * Tick labels: decimals, or mantissa-e-exponent for very large or small values. On a linear axis
 * all labels share one style and number of decimals ("0.0", "0.5", "1.0").
 */
export function formatTicks(values: readonly number[], isLog: boolean): string[] {
  if (isLog) return values.map(formatTick);
  const big = Math.max(0, ...values.map(Math.abs));
  const steps = values.slice(1).map((v, i) => v - values[i]!);
  const step = steps.length ? Math.min(...steps) : big || 1;
  if (big >= 1e5 || step < 1e-3) return values.map((v) => (v === 0 ? "0" : exponential(v)));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return values.map((v) => (Object.is(Number(v.toFixed(decimals)), -0) ? 0 : v).toFixed(decimals));
}

/** One tick label: a short decimal, or mantissa-e-exponent for very large or small values. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? exponential(v) : String(Number(v.toPrecision(4)));
}

function exponential(v: number): string {
  const e = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
  return `${Number((v / 10 ** e).toPrecision(3))}e${e}`;
}

interface Axis {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly { readonly value: number }[];
  readonly minor: readonly number[];
  /** Value -> axis coordinate (log10 on a log axis). */
  readonly map: (v: number) => number;
}

function yAxis(series: readonly Series[], isLog: boolean): Axis {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (const v of s.values) {
      if (Number.isFinite(v) && (!isLog || v > 0)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    }
  }
  if (lo > hi) [lo, hi] = isLog ? [1, 10] : [0, 1];
  if (!isLog) {
    if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) [lo, hi] = [lo - 0.5, hi + 0.5];
    return linearTicks(lo, hi, 6);
  }
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.max(e0 + 1, Math.ceil(Math.log10(hi)));
  const step = Math.ceil((e1 - e0) / 8);
  const ticks = [];
  const minor = [];
  for (let e = e0; e <= e1; e++) {
    if ((e - e0) % step === 0) ticks.push({ value: 10 ** e });
    if (e < e1 && e1 - e0 <= 4) for (let m = 2; m <= 9; m++) minor.push(m * 10 ** e);
  }
  return { lo: e0, hi: e1, ticks, minor, map: Math.log10 };
}

/** About `count` ticks at 1, 2 or 5 × 10^n spacing; the range is widened to whole ticks unless tight. */
function linearTicks(lo: number, hi: number, count: number, isTight = false, minStep = 0): Axis {
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(
    minStep,
    [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag,
  );
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let i = 0; a + i * step <= b + step * 1e-9; i++) {
    const value = Number((a + i * step).toPrecision(12)) || 0;
    if (!isTight || (value >= lo - step * 1e-9 && value <= hi + step * 1e-9)) ticks.push({ value });
  }
  return { lo: isTight ? lo : a, hi: isTight ? hi : b, ticks, minor: [], map: (v) => v };
}

/** Consecutive drawable points [x, y] of a series, split at gaps. */
function finiteRuns(s: Series, isLog: boolean): [number, number][][] {
  const runs: [number, number][][] = [];
  let cur: [number, number][] = [];
  s.values.forEach((v, k) => {
    if (Number.isFinite(v) && (!isLog || v > 0)) cur.push([s.x?.[k] ?? k, v]);
    else if (cur.length) {
      runs.push(cur);
      cur = [];
    }
  });
  if (cur.length) runs.push(cur);
  return runs;
}

interface LegendEntry {
  /** Offset of the entry in the legend box, and its width. */
  readonly x: number;
  readonly y: number;
  readonly w: number;
}

/** Width of the legend as one column (0 without series). */
function legendWidth(series: readonly Series[], scale: number): number {
  if (series.length === 0) return 0;
  return 34 * scale + Math.max(...series.map((s) => textWidth(s.name, scale)));
}

/** Entry positions: one per row (`maxWidth` 0), or flowing left to right in rows of `maxWidth`. */
function legendEntries(series: readonly Series[], scale: number, maxWidth: number): LegendEntry[] {
  const row = textHeight(scale) + 6 * scale;
  const out: LegendEntry[] = [];
  let [x, y] = [0, 0];
  for (const s of series) {
    const w = 28 * scale + textWidth(s.name, scale);
    if (out.length && (maxWidth === 0 || x + w > maxWidth)) [x, y] = [0, y + row];
    out.push({ x, y, w });
    x += w + 12 * scale;
  }
  return out;
}

/** The legend in its box (see `layout`). */
function drawLegend(
  img: RgbImage,
  series: readonly Series[],
  box: Rect,
  entries: readonly LegendEntry[],
  scale: number,
): void {
  const th = textHeight(scale);
  const swatch = 16 * scale;
  fillRect(img, box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0, [255, 255, 255]);
  strokeRect(img, box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0, [200, 200, 200]);
  series.forEach((s, i) => {
    const x = box.x0 + entries[i]!.x;
    const cy = box.y0 + 6 * scale + entries[i]!.y + (th >> 1);
    const colour = PALETTE[i % PALETTE.length]!;
    strokePolyline(
      img,
      [x + 5 * scale, cy + 0.5, x + 5 * scale + swatch, cy + 0.5],
      colour,
      2 * scale,
    );
    drawText(img, s.name, x + swatch + 9 * scale, cy - (th >> 1), INK, scale);
  });
}
