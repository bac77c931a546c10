// What a user takes away: `dinov2 curate export` (file list and a folder of links for `dinov2
// train --data`) and `curate report` (one self-contained HTML page).
import { resolve } from "node:path";
import { exportPart, exportStage, mergeExport } from "../../curate/export-stage.js";
import { reportStage } from "../../curate/report-stage.js";
import { req } from "../curate-values.js";
import type { CurateRun } from "./context.js";

export async function runExport(r: CurateRun): Promise<void> {
  const { v, ctx, store } = r;
  const out = req(v.output, "output", "export");
  const shard = r.shard();
  if (!v.merge && shard.count > 1) {
    const n = await exportPart(store, v.from, out, shard);
    ctx.out(`export ${shard.index}/${shard.count}: ${n} links written`);
    return;
  }
  const e = v.merge ? await mergeExport(store, v.from, out) : await exportStage(store, v.from, out);
  ctx.out(
    `export: ${e.files} images from "${e.table}" -> ${e.listPath} and ${e.imagesDir} (dinov2 train --data ${e.imagesDir})`,
  );
}

export async function runReport(r: CurateRun): Promise<void> {
  r.oneProcess(
    "report",
    "it draws one page from samples of every table, a few hundred thumbnails in all",
  );
  const out = resolve(req(r.v.output, "output", "report"));
  const s = await reportStage(r.store, { out });
  r.ctx.out(`report: ${s.sections} sections -> ${out}`);
}
