// `curate report`: one self-contained HTML page (PNG grids inlined as data URIs) showing what each
// stage did: counts per stage, the largest duplicate groups, members of a few clusters, and
// retrieval examples (query -> retrieved). Thumbnails are drawn with sharp; grids with eval/png.
import { readFile, writeFile } from "node:fs/promises";
import sharp from "sharp";
import { encodePng, imageGrid, type RgbImage } from "../eval/png.js";
import { CLUSTERS, SAMPLED } from "./cluster-stage.js";
import { DEDUP_KEPT, DEDUP_REMOVED } from "./dedup-stage.js";
import { EXACT_DUPLICATES, POOL, REJECTS } from "./pool.js";
import { RETRIEVED } from "./retrieve-stage.js";
import { type CurateStore, column } from "./store.js";

const THUMB = 64;

export interface ReportOptions {
  readonly out: string;
  readonly groups?: number;
  readonly clusters?: number;
  readonly perRow?: number;
}

export async function reportStage(
  store: CurateStore,
  o: ReportOptions,
): Promise<{ sections: number; counts: Record<string, number> }> {
  const names = new Set(await store.names());
  const counts: Record<string, number> = {};
  for (const t of [
    POOL,
    REJECTS,
    EXACT_DUPLICATES,
    DEDUP_KEPT,
    DEDUP_REMOVED,
    CLUSTERS,
    SAMPLED,
    RETRIEVED,
  ]) {
    if (names.has(t)) counts[t] = await store.count(t);
  }
  const perRow = o.perRow ?? 8;
  const sections: string[] = [];
  sections.push(
    `<h2>Counts per stage</h2><table>${Object.entries(counts)
      .map(([k, v]) => `<tr><td>${k}</td><td align=right>${v}</td></tr>`)
      .join("")}</table>`,
  );
  if (names.has(DEDUP_REMOVED)) {
    const t = await store.read(DEDUP_REMOVED, [
      "path",
      "reason",
      "group",
      "kept_path",
      "test_path",
    ]);
    const [path, reason, group, kept, test] = [
      column<string>(t, "path"),
      column<string>(t, "reason"),
      column<number>(t, "group"),
      column<string>(t, "kept_path"),
      column<string>(t, "test_path"),
    ];
    const groups = new Map<number, string[]>();
    path.forEach((p, i) => {
      if (reason[i] !== "copy") return;
      groups.set(group[i]!, [...(groups.get(group[i]!) ?? [kept[i]!]), p]);
    });
    const largest = [...groups.values()]
      .sort((a, b) => b.length - a.length)
      .slice(0, o.groups ?? 6);
    if (largest.length > 0)
      sections.push(
        await gridSection(
          "Largest duplicate groups (first image kept)",
          largest.map((g) => g.slice(0, perRow)),
        ),
      );
    const near = path
      .map((p, i) => [test[i]!, p])
      .filter((_, i) => reason[i] === "near-test")
      .slice(0, o.groups ?? 6);
    if (near.length > 0)
      sections.push(
        await gridSection("Removed as near an evaluation image (test image | pool image)", near),
      );
  }
  if (names.has(CLUSTERS)) {
    const t = await store.read(CLUSTERS, ["path", "level0"]);
    const [path, label] = [column<string>(t, "path"), column<number>(t, "level0")];
    const byCluster = new Map<number, string[]>();
    path.forEach((p, i) => {
      byCluster.set(label[i]!, [...(byCluster.get(label[i]!) ?? []), p]);
    });
    const shown = [...byCluster]
      .sort((a, b) => b[1].length - a[1].length)
      .slice(0, o.clusters ?? 6);
    sections.push(
      await gridSection(
        "Largest level-0 clusters (one row each)",
        shown.map(([, m]) => m.slice(0, perRow)),
      ),
    );
  }
  if (names.has(RETRIEVED)) {
    const t = await store.read(RETRIEVED, ["path", "query_path", "sim"]);
    const [path, query, sim] = [
      column<string>(t, "path"),
      column<string>(t, "query_path"),
      column<number>(t, "sim"),
    ];
    const byQuery = new Map<string, { p: string; s: number }[]>();
    path.forEach((p, i) => {
      byQuery.set(query[i]!, [...(byQuery.get(query[i]!) ?? []), { p, s: sim[i]! }]);
    });
    const rows = [...byQuery].slice(0, o.groups ?? 6).map(([qp, r]) => [
      qp,
      ...r
        .sort((a, b) => b.s - a.s)
        .slice(0, perRow - 1)
        .map((x) => x.p),
    ]);
    sections.push(
      await gridSection("Retrieval examples (curated query | retrieved, most similar first)", rows),
    );
  }
  const html = `<!doctype html><meta charset=utf-8><title>dinov2 curate report</title>
<style>body{font-family:sans-serif;margin:2em}td{padding:0 1em}img{image-rendering:pixelated}</style>
<h1>dinov2 curate report</h1><p>${escapeHtml(store.uri)}</p>${sections.join("\n")}`;
  await writeFile(o.out, html);
  return { sections: sections.length, counts };
}

async function gridSection(title: string, rows: readonly (readonly string[])[]): Promise<string> {
  const images = await Promise.all(rows.map((r) => Promise.all(r.map(thumbnail))));
  const png = encodePng(imageGrid(images));
  return `<h2>${escapeHtml(title)}</h2><img alt="${escapeHtml(title)}" src="data:image/png;base64,${png.toString("base64")}">`;
}

/** A THUMB×THUMB RGB thumbnail; a grey square when the file cannot be read. */
async function thumbnail(path: string): Promise<RgbImage> {
  try {
    const data = await sharp(await readFile(path))
      .removeAlpha()
      .resize(THUMB, THUMB, { fit: "contain", background: { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb")
      .raw()
      .toBuffer();
    return { width: THUMB, height: THUMB, data: new Uint8Array(data) };
  } catch {
    return { width: THUMB, height: THUMB, data: new Uint8Array(THUMB * THUMB * 3).fill(128) };
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
