// The image folder: class subfolders, corrupt files skipped and counted, clear failures.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../errors.js";
import { createImageFolderDataset, scanImageFolder } from "./image-folder.js";

const png = (w: number, h: number, channels: 1 | 3 | 4) =>
  sharp(Buffer.alloc(w * h * channels, 200), { raw: { width: w, height: h, channels } })
    .png()
    .toBuffer();

describe("image folder", () => {
  let root = "";
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "dinov2-folder-"));
    for (const c of ["cats", "dogs"]) mkdirSync(join(root, c, "nested"), { recursive: true });
    writeFileSync(join(root, "cats", "a.png"), await png(8, 6, 3));
    writeFileSync(join(root, "cats", "nested", "b.png"), await png(5, 5, 4));
    writeFileSync(join(root, "dogs", "c.png"), await png(4, 7, 1));
    writeFileSync(join(root, "dogs", "broken.jpg"), Buffer.from("definitely not a jpeg"));
    writeFileSync(join(root, "dogs", "notes.txt"), "ignored");
    mkdirSync(join(root, "empty"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("labels files by their top-level folder and decodes every image to RGB", async () => {
    const { spec } = await scanImageFolder(root);
    expect(spec.classNames).toEqual(["cats", "dogs"]);
    expect(spec.files.map((f) => f.slice(root.length + 1))).toEqual([
      "cats/a.png",
      "cats/nested/b.png",
      "dogs/broken.jpg",
      "dogs/c.png",
    ]);
    expect(spec.labels).toEqual([0, 0, 1, 1]);
    const ds = createImageFolderDataset(spec);
    const rgba = await ds.get(1);
    const gray = await ds.get(3);
    expect([rgba!.channels, rgba!.data.length]).toEqual([3, 5 * 5 * 3]);
    expect([gray!.height, gray!.width, gray!.data.length]).toEqual([7, 4, 7 * 4 * 3]);
  });

  it("skips and records a corrupt file instead of throwing", async () => {
    const ds = createImageFolderDataset((await scanImageFolder(root)).spec);
    expect(await ds.get(2)).toBeNull();
    expect(ds.skipped.length).toBe(1);
    expect(ds.skipped[0]!.path.endsWith("broken.jpg")).toBe(true);
  });

  it("validate: 'all' leaves corrupt files out of the spec and reports them", async () => {
    const { spec, skipped } = await scanImageFolder(root, { validate: "all" });
    expect(spec.files.length).toBe(3);
    expect(skipped.map((s) => s.path.slice(root.length + 1))).toEqual(["dogs/broken.jpg"]);
  });

  it("an empty folder fails with a message naming it", async () => {
    const err = await scanImageFolder(join(root, "empty")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toContain(join(root, "empty"));
    expect((err as DataError).message.split("\n")[0]).toBe("scanImageFolder: no image files found");
  });

  it("a folder of undecodable images fails with a message naming it", async () => {
    const bad = join(root, "..", `${root.split("/").pop()}-bad`);
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "x.png"), Buffer.from([1, 2, 3]));
    const err = await scanImageFolder(bad).catch((e: unknown) => e);
    rmSync(bad, { recursive: true, force: true });
    expect((err as DataError).message.split("\n").slice(0, 2)).toEqual([
      "scanImageFolder: none of the 1 image files could be decoded",
      `  at ${bad}`,
    ]);
  });
});
