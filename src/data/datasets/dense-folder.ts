// Dense datasets on disk. Segmentation layouts: ADE20K (images/ + annotations/ per split,
// reduce_zero_label: 0 → 255, k → k − 1), Pascal VOC (JPEGImages/, SegmentationClass/ palette
// PNGs, ImageSets/Segmentation/<split>.txt) and plain pairs (<split>/images, <split>/masks).
// Depth: <split>/rgb + <split>/depth 16-bit PNGs, divided by a scale (NYU: 1000 → metres).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { decodeImage, IMAGE_EXTENSIONS } from "../decode.js";
import { DataError } from "../errors.js";
import { readPngSamples } from "../index-png.js";
import type { SkippedFile } from "./dataset.js";
import { type DepthDataset, IGNORE_INDEX, type SegDataset } from "./dense.js";

export const SEG_LAYOUTS = ["ade20k", "voc", "pairs"] as const;
export type SegLayout = (typeof SEG_LAYOUTS)[number];

export interface SegFolderOptions {
  readonly root: string;
  readonly layout: SegLayout;
  readonly split: "train" | "val";
  /** Class count for the "pairs" layout without a classes.txt. */
  readonly numClasses?: number;
}

const VOC_CLASSES =
  "background aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse motorbike person pottedplant sheep sofa train tvmonitor".split(
    " ",
  );

/** Opens a segmentation folder; every image must have its mask (else a DataError naming it). */
export function openSegFolder(o: SegFolderOptions): SegDataset {
  const root = resolve(o.root);
  const { pairs, classNames, reduceZero } = scanSeg(root, o);
  const skipped: SkippedFile[] = [];
  return {
    length: pairs.length,
    classNames,
    skipped,
    get: async (index) => {
      const [imagePath, maskPath] = pairs[index]!;
      const image = await decodeImage(imagePath).catch((e: Error) => {
        skipped.push({ path: imagePath, reason: e.message });
        return null;
      });
      if (!image) return null;
      const m = readPngSamples(maskPath);
      if (m.bitDepth !== 8 || m.width !== image.width || m.height !== image.height) {
        throw new DataError(
          "segmentation mask",
          maskPath,
          `expected an 8-bit ${image.width}×${image.height} index PNG; got ${m.bitDepth}-bit ${m.colorType} ${m.width}×${m.height}`,
        );
      }
      const mask = Uint8Array.from(m.samples);
      if (reduceZero)
        for (let i = 0; i < mask.length; i++) mask[i] = mask[i] === 0 ? IGNORE_INDEX : mask[i]! - 1;
      const bad = mask.find((v) => v !== IGNORE_INDEX && v >= classNames.length);
      if (bad !== undefined) {
        throw new DataError(
          "segmentation mask",
          maskPath,
          `label ${reduceZero ? bad + 1 : bad} is beyond the ${classNames.length} classes (and not ${IGNORE_INDEX}, ignored)`,
          o.layout === "pairs"
            ? "list every class in classes.txt or pass --num-classes"
            : undefined,
        );
      }
      return { image, mask, name: basename(imagePath) };
    },
  };
}

export interface DepthFolderOptions {
  readonly root: string;
  readonly split: "train" | "val";
  /** Stored value per metre (NYU 1000, KITTI 256). */
  readonly scale: number;
}

/** Opens <root>/<split>/{rgb,depth}; depth PNGs must be 16-bit (an 8-bit one is an error). */
export function openDepthFolder(o: DepthFolderOptions): DepthDataset {
  const dir = join(resolve(o.root), o.split);
  const pairs = pairUp(join(dir, "rgb"), join(dir, "depth"), "depth folder");
  const skipped: SkippedFile[] = [];
  return {
    length: pairs.length,
    skipped,
    get: async (index) => {
      const [imagePath, depthPath] = pairs[index]!;
      const image = await decodeImage(imagePath).catch((e: Error) => {
        skipped.push({ path: imagePath, reason: e.message });
        return null;
      });
      if (!image) return null;
      const d = readPngSamples(depthPath);
      if (d.bitDepth !== 16) {
        throw new DataError(
          "depth map",
          depthPath,
          `is a ${d.bitDepth}-bit PNG; depth must be a 16-bit PNG (values / --depth-scale = metres)`,
          "8 bits cannot hold metric depth; export the depth maps as 16-bit greyscale PNGs",
        );
      }
      if (d.width !== image.width || d.height !== image.height) {
        throw new DataError(
          "depth map",
          depthPath,
          `is ${d.width}×${d.height}; its image is ${image.width}×${image.height}`,
        );
      }
      const depth = Float32Array.from(d.samples, (v) => v / o.scale);
      return { image, depth, name: basename(imagePath) };
    },
  };
}

function scanSeg(
  root: string,
  o: SegFolderOptions,
): { pairs: [string, string][]; classNames: string[]; reduceZero: boolean } {
  if (o.layout === "ade20k") {
    const sub = o.split === "train" ? "training" : "validation";
    const pairs = pairUp(join(root, "images", sub), join(root, "annotations", sub), "ADE20K");
    return {
      pairs,
      classNames: Array.from({ length: 150 }, (_, i) => `class${i}`),
      reduceZero: true,
    };
  }
  if (o.layout === "voc") {
    const list = join(root, "ImageSets", "Segmentation", `${o.split}.txt`);
    if (!existsSync(list)) throw new DataError("Pascal VOC", list, "split list not found");
    const ids = readFileSync(list, "utf8")
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    const pairs = ids.map((id): [string, string] => {
      const img = join(root, "JPEGImages", `${id}.jpg`);
      const mask = join(root, "SegmentationClass", `${id}.png`);
      for (const p of [img, mask])
        if (!existsSync(p)) throw new DataError("Pascal VOC", p, `listed in ${list} but missing`);
      return [img, mask];
    });
    return { pairs, classNames: VOC_CLASSES, reduceZero: false };
  }
  const dir = join(root, o.split);
  const pairs = pairUp(join(dir, "images"), join(dir, "masks"), "segmentation pairs");
  const classesFile = join(root, "classes.txt");
  const classNames = existsSync(classesFile)
    ? readFileSync(classesFile, "utf8")
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter(Boolean)
    : Array.from({ length: o.numClasses ?? 0 }, (_, i) => `class${i}`);
  if (classNames.length < 2) {
    throw new DataError(
      "segmentation pairs",
      classesFile,
      "no class list",
      "write classes.txt (one name per line) or pass --num-classes",
    );
  }
  return { pairs, classNames, reduceZero: false };
}

/** Images of `imageDir` with the same-stem .png of `targetDir`; a missing target is an error. */
function pairUp(imageDir: string, targetDir: string, what: string): [string, string][] {
  for (const d of [imageDir, targetDir])
    if (!existsSync(d)) throw new DataError(what, d, "folder not found");
  const images = readdirSync(imageDir)
    .filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()))
    .sort();
  if (images.length === 0) throw new DataError(what, imageDir, "no images found");
  return images.map((f) => {
    const target = join(targetDir, `${basename(f, extname(f))}.png`);
    if (!existsSync(target)) {
      throw new DataError(what, join(imageDir, f), `has no ${basename(target)} in ${targetDir}`);
    }
    return [join(imageDir, f), target];
  });
}
