// `dinov2 viz pca|match`: the paper's pictures of patch features. pca (Fig. 1): the first PCA
// component over the patches of all images, thresholded to keep the foreground, then 3 components
// of the foreground as RGB beside each input. match (Fig. 10): mutual nearest neighbours between
// the foreground patches of two images, the strongest drawn as lines.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { decodeImage } from "../../data/decode.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../data/image.js";
import { extractFeatures } from "../../eval/features.js";
import { drawPatchMatches, mutualNearestPatches } from "../../eval/patch-matching.js";
import { pcaPatchPicture } from "../../eval/pca.js";
import { encodePng, imageFromChw, imageGrid, type RgbImage } from "../../eval/png.js";
import { checkImageSize, preprocessInto, resolveModel } from "../../inference/index.js";
import { createRuntime, PROVIDERS } from "../../runtime/index.js";
import { defineCommand } from "../command.js";
import { asUsage, choiceFlag, intFlag, requiredFlag } from "../flag-values.js";
import { UsageError } from "../usage-error.js";

const MODES = ["pca", "match"] as const;

export const vizCommand = defineCommand({
  name: "viz",
  summary: "pictures of patch features: `viz pca <images...>`, `viz match <a> <b>` (PNG)",
  description: [
    "Images are resized (shorter side) and centre-cropped to --image-size (default 448: 32×32",
    "patches of 14). pca: one PCA over the patches of all images; patches whose first component",
    "(min-max scaled, oriented so the border is low) exceeds --threshold are foreground; a second",
    "PCA over the foreground gives 3 components as RGB; background is black. Each row: input | PCA.",
    "match: foreground patches of both images (the same first-component test), mutual nearest",
    "neighbours by cosine similarity, the --lines most similar drawn between the images.",
  ].join("\n"),
  positionals: "<pca|match> <image> [more images...]",
  flags: {
    model: {
      type: "string",
      valueName: "FILE|DIR|PRESET",
      description: "checkpoint, HF folder or preset name (random weights)",
    },
    "image-size": {
      type: "string",
      valueName: "PX",
      description: "square input side",
      default: "448",
    },
    threshold: {
      type: "string",
      valueName: "T",
      description: "foreground threshold on the first component, in [0, 1]",
      default: "0.5",
    },
    lines: { type: "string", valueName: "N", description: "matches drawn (match)", default: "40" },
    output: { type: "string", valueName: "FILE", description: "PNG to write", default: "viz.png" },
    provider: {
      type: "string",
      valueName: "NAME",
      description: `execution provider: ${PROVIDERS.join(", ")}`,
      default: "cpu",
    },
  },
  examples: [
    "dinov2 viz pca --model dinov2_vits14_pretrain.pth dog1.jpg dog2.jpg dog3.jpg --output pca.png",
    "dinov2 viz match --model dinov2_vits14_pretrain.pth cat.jpg tiger.jpg --output match.png",
  ],
  run: async (v, ctx) => {
    const [modeWord, ...paths] = ctx.positionals;
    const mode = choiceFlag(modeWord ?? "", "mode (first positional)", MODES);
    if (paths.length === 0 || (mode === "match" && paths.length !== 2)) {
      throw new UsageError(
        mode === "match"
          ? "viz match needs exactly two images"
          : "viz pca needs at least one image",
      );
    }
    const { backbone, description } = asUsage("--model", () =>
      resolveModel(requiredFlag(v.model, "model", "viz")),
    );
    process.stderr.write(`model: ${description}\n`);
    const side = intFlag(v["image-size"], "image-size", { min: 1 });
    asUsage("--image-size", () => checkImageSize(side, backbone.options.patchSize));
    const threshold = Number(v.threshold);
    if (!(threshold >= 0 && threshold <= 1))
      throw new UsageError(`--threshold: got "${v.threshold}", expected a number in [0, 1]`);
    const per = 3 * side * side;
    const pixels = new Float32Array(paths.length * per);
    const t = { resizePx: side, cropPx: side, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    for (const [i, p] of paths.entries()) {
      const img = await decodeImage(p).catch((e: Error) => {
        throw new UsageError(`${p}: cannot decode (${e.message})`);
      });
      preprocessInto(img, t, pixels, i * per);
    }
    const runtime = await createRuntime({
      provider: choiceFlag(v.provider, "provider", PROVIDERS),
    });
    const f = await extractFeatures(runtime, backbone, [pixels], {
      batchSize: paths.length,
      imageSize: side,
      withPatches: true,
    });
    const grid = side / backbone.options.patchSize;
    const cell = backbone.options.patchSize;
    // All images' patches stacked as one tall grid: one PCA (and one foreground test) for all.
    const pca = pcaPatchPicture(f.patches!, paths.length * grid, grid, {
      foregroundThreshold: threshold,
      cellPx: cell,
    });
    const inputs = paths.map((_, i) =>
      imageFromChw(pixels.subarray(i * per, (i + 1) * per), side, side),
    );
    const fgCount = (i: number) =>
      pca.foreground.subarray(i * grid * grid, (i + 1) * grid * grid).reduce((a, b) => a + b, 0);
    let picture: RgbImage;
    let summary: Record<string, unknown>;
    if (mode === "pca") {
      const band = (i: number): RgbImage => {
        const rows = grid * cell;
        const width = pca.width;
        return {
          width,
          height: rows,
          data: pca.data.slice(i * rows * width * 3, (i + 1) * rows * width * 3),
        };
      };
      picture = imageGrid(inputs.map((im, i) => [im, band(i)]));
      summary = {
        foreground_patches: paths.map((_, i) => fgCount(i)),
        patches_per_image: grid * grid,
      };
    } else {
      const dim = f.dim;
      const keep = (i: number) =>
        Array.from({ length: grid * grid }, (_, p) => p).filter(
          (p) => pca.foreground[i * grid * grid + p] === 1,
        );
      const [ka, kb] = [keep(0), keep(1)];
      const rows = (i: number, idx: number[]) => {
        const out = new Float32Array(idx.length * dim);
        idx.forEach((p, n) => {
          const at = (i * grid * grid + p) * dim;
          out.set(f.patches!.subarray(at, at + dim), n * dim);
        });
        return out;
      };
      if (ka.length === 0 || kb.length === 0)
        throw new UsageError(
          `no foreground patches in ${ka.length ? paths[1] : paths[0]}; lower --threshold`,
        );
      const matches = mutualNearestPatches(rows(0, ka), rows(1, kb), dim).map((m) => ({
        ...m,
        a: ka[m.a]!,
        b: kb[m.b]!,
      }));
      const g = { gridH: grid, gridW: grid };
      picture = drawPatchMatches(inputs[0]!, g, inputs[1]!, g, matches, {
        maxLines: intFlag(v.lines, "lines", { min: 1 }),
      });
      summary = {
        foreground_patches: [ka.length, kb.length],
        mutual_matches: matches.length,
        drawn: Math.min(matches.length, Number(v.lines)),
        best_similarity: matches[0]?.similarity ?? null,
      };
    }
    mkdirSync(dirname(v.output), { recursive: true });
    writeFileSync(v.output, encodePng(picture));
    ctx.out(JSON.stringify({ mode, image_size: side, grid, ...summary, output: v.output }));
    return 0;
  },
});
