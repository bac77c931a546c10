// One self-contained HTML page for a run's results: headings, paragraphs, key/value tables,
// preformatted text and pictures embedded as data: URLs (PNG), so the file can be mailed or
// opened offline. Hand-written: a template engine would be a dependency for ~80 lines of markup.
import { writeFileSync } from "node:fs";
import { encodePng, type RgbImage } from "./png.js";

export type ReportBlock =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "image"; readonly image: RgbImage; readonly alt: string }
  | { readonly kind: "table"; readonly rows: readonly (readonly [string, string])[] }
  | { readonly kind: "pre"; readonly text: string };

export interface ReportSection {
  readonly heading: string;
  readonly blocks: readonly ReportBlock[];
}

export interface Report {
  readonly title: string;
  readonly sections: readonly ReportSection[];
}

const STYLE = [
  "body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}",
  "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}",
  "img{max-width:100%;image-rendering:pixelated;border:1px solid #eee}",
  "table{border-collapse:collapse}td{padding:2px 12px 2px 0;vertical-align:top}",
  "td:first-child{color:#555}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:12px}",
].join("");

/** `<`, `>`, `&`, `"` and `'` as entities. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** A PNG data: URL of an image. */
export function pngDataUrl(img: RgbImage): string {
  return `data:image/png;base64,${encodePng(img).toString("base64")}`;
}

/** The page's HTML: no external URL anywhere (styles inline, images as data: URLs). */
export function renderReport(r: Report): string {
  const body = r.sections.map(
    (s) =>
      `<section><h2>${escapeHtml(s.heading)}</h2>\n${s.blocks.map(block).join("\n")}</section>`,
  );
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(r.title)}</title><style>${STYLE}</style></head>`,
    `<body><h1>${escapeHtml(r.title)}</h1>`,
    ...body,
    "</body></html>",
    "",
  ].join("\n");
}

/** Writes the page to `path`. */
export function writeReport(path: string, r: Report): void {
  writeFileSync(path, renderReport(r));
}

function block(b: ReportBlock): string {
  switch (b.kind) {
    case "text":
      return `<p>${escapeHtml(b.text)}</p>`;
    case "pre":
      return `<pre>${escapeHtml(b.text)}</pre>`;
    case "image":
      return `<p><img src="${pngDataUrl(b.image)}" width="${b.image.width}" height="${b.image.height}" alt="${escapeHtml(b.alt)}"></p>`;
    case "table":
      return `<table>${b.rows
        .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`)
        .join("")}</table>`;
  }
}
