// `dinov2 curate embed`: images -> the pool table (one part per shard; --merge combines them).
import { embedPart, mergeEmbedParts } from "../../curate/embed-stage.js";
import { listImageInputs } from "../../inference/image-inputs.js";
import { checkEmbedDescriptor, descriptorModel } from "../curate-descriptor.js";
import { req } from "../curate-values.js";
import { intFlag } from "../flag-values.js";
import { createProgressBar } from "../progress.js";
import { UsageError } from "../usage-error.js";
import { type CurateRun, log } from "./context.js";

export async function runEmbed(r: CurateRun): Promise<void> {
  const { v, ctx, store } = r;
  const shard = r.shard();
  // `run --descriptor phash|embedding` picks dedup's descriptor; only embed itself refuses it.
  if (ctx.positionals[0] === "embed") checkEmbedDescriptor(v);
  if (v.merge) {
    if (v.input !== undefined || v.descriptor !== undefined)
      throw new UsageError(
        "--merge combines finished parts; give it without --input or --descriptor",
        { flag: "--merge" },
      );
    const m = await mergeEmbedParts(store);
    ctx.out(
      `embed --merge: ${m.shards} parts -> pool of ${m.pool} images; ${m.exactDuplicates} exact duplicates dropped, ${m.rejected} files rejected`,
    );
    return;
  }
  const inputs = [req(v.input, "input", "embed"), ...r.rest];
  const { files, skipped } = await listImageInputs(inputs);
  if (skipped.length > 0)
    log(
      `not images by extension (${skipped.length}): ${skipped
        .slice(0, 5)
        .map((s) => s.path)
        .join(", ")}${skipped.length > 5 ? ", …" : ""}`,
    );
  const { embedder, meta: embedMeta } = await r.embedder();
  const descriptor = await descriptorModel(v, r.threads());
  const meta = descriptor
    ? { ...embedMeta, descriptor: descriptor.id, descriptorDim: descriptor.dim }
    : embedMeta;
  log(
    `embedding ${files.length} files (shard ${shard.index}/${shard.count}) with ${meta.model} at ${meta.imageSize}px${descriptor ? ` and descriptor ${descriptor.id} (${descriptor.dim}-d)` : ""} into ${store.uri}`,
  );
  let bar: ReturnType<typeof createProgressBar> | undefined;
  const onProgress = (done: number, total: number) => {
    bar ??= createProgressBar({ total, label: "embed", unit: "img" });
    bar.update(done);
  };
  const chunk = v.chunk === undefined ? undefined : intFlag(v.chunk, "chunk", { min: 1 });
  try {
    const e = await embedPart({
      store,
      files,
      embedder,
      meta,
      shard,
      onProgress,
      ...(descriptor ? { descriptor } : {}),
      ...(chunk ? { chunk } : {}),
    });
    bar?.finish();
    ctx.out(
      `embed ${shard.index}/${shard.count}: ${e.embedded} embedded, ${e.rejected} rejected, ${e.resumed} already done`,
    );
  } finally {
    await embedder.release();
    await descriptor?.release();
  }
  if (shard.count === 1) {
    const m = await mergeEmbedParts(store);
    ctx.out(
      `pool: ${m.pool} images; ${m.exactDuplicates} exact duplicates dropped, ${m.rejected} files rejected (table "rejects")`,
    );
  }
}
