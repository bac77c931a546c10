// `dinov2 serve`: the model in the browser. Exports it to ONNX, then serves a page that runs it in
// onnxruntime-web (WebGPU or WASM): patch PCA of dropped images, patch matches between two, and
// nearest neighbours in a gallery folder. Binds 127.0.0.1 unless --host; runs until Ctrl-C.
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { listImageInputs } from "../../inference/index.js";
import { defineCommand } from "../command.js";
import { intFlag, requiredFlag } from "../flag-values.js";
import { startPageServer } from "../page-server.js";
import { DEFAULT_IMAGE_SIZE, prepareServedModel } from "../served-model.js";
import { UsageError } from "../usage-error.js";

/** The page embeds every gallery image on load; more than this would keep it busy for minutes. */
export const MAX_GALLERY = 256;
/** Dropped files over this size are refused by the page. */
export const MAX_IMAGE_BYTES = 64 * 2 ** 20;

export const serveCommand = defineCommand({
  name: "serve",
  summary: "serve a page that runs the model in the browser: patch PCA, matches, neighbours",
  description: [
    "Exports --model to ONNX and serves a local page that runs it with onnxruntime-web (WebGPU",
    "where the browser has it, WASM otherwise), offline: onnxruntime's wasm files come from this",
    "package. Drop or pick images: the PCA of each image's patch features as RGB; the last two",
    "images: mutual nearest patch matches; with --gallery: each image's nearest gallery images",
    "(CLS cosine). Images are decoded and embedded in the browser with the same eval transform",
    "as `dinov2 embed` and never uploaded. Serves only the page, the model and the gallery.",
  ].join("\n"),
  flags: {
    model: {
      type: "string",
      valueName: "PATH|PRESET",
      description:
        "checkpoint file, Hugging Face folder, export-onnx folder, or a preset (random weights)",
    },
    port: { type: "string", valueName: "N", default: "8080", description: "port (0: any free)" },
    host: {
      type: "string",
      valueName: "ADDR",
      default: "127.0.0.1",
      description: "address to bind (another than loopback exposes the page to the network)",
    },
    gallery: {
      type: "string",
      valueName: "DIR",
      description: `images the page embeds on load for nearest neighbours (at most ${MAX_GALLERY})`,
    },
    "image-size": {
      type: "string",
      valueName: "PX",
      description: `crop side, a multiple of the patch size (default ${DEFAULT_IMAGE_SIZE}; an export-onnx folder keeps its own)`,
    },
    "page-dir": {
      type: "string",
      valueName: "DIR",
      description: "the built page (default: this package's dist/page, from `npm run build`)",
    },
  },
  examples: [
    "dinov2 serve --model runs/demo/export/hf --gallery photos/",
    "dinov2 serve --model onnx/ --port 9000",
  ],
  run: async (flags, ctx) => {
    const spec = requiredFlag(flags.model, "model", "serve");
    const port = intFlag(flags.port, "port", { min: 0, max: 65535 });
    const imageSize =
      flags["image-size"] === undefined
        ? undefined
        : intFlag(flags["image-size"], "image-size", { min: 1 });
    const pageDir = resolve(flags["page-dir"] ?? defaultPageDir());
    if (!existsSync(join(pageDir, "index.html"))) {
      throw new UsageError(`the page is not built: ${pageDir} has no index.html`, {
        flag: "--page-dir",
        hint: "run `npm run build` (or `npx tsx scripts/build-page.ts DIR` and --page-dir DIR)",
      });
    }
    const gallery = flags.gallery === undefined ? undefined : await galleryFiles(flags.gallery);
    const model = await prepareServedModel(spec, imageSize, log);
    const cleanup = () => model.tempDir && rmSync(model.tempDir, { recursive: true, force: true });
    try {
      const server = await startPageServer({
        pageDir,
        modelFile: model.modelFile,
        ortDir: ortDistDir(),
        galleryFiles: gallery?.files ?? [],
        galleryNames: gallery?.names ?? [],
        config: {
          model: model.description,
          imageSize: model.imageSize,
          patchSize: model.patchSize,
          numRegisters: model.numRegisters,
          dim: model.dim,
          maxImageBytes: MAX_IMAGE_BYTES,
        },
        host: flags.host,
        port,
      });
      const n = gallery?.files.length ?? 0;
      ctx.out(`serving ${server.url}${n ? ` (gallery: ${n} images)` : ""}; Ctrl-C stops`);
      await stopSignal();
      await server.close();
    } finally {
      cleanup();
    }
    return 0;
  },
});

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The package's dist/page: from dist/cli/commands (built) or src/cli/commands (tsx). */
function defaultPageDir(): string {
  return fileURLToPath(new URL("../../../dist/page/", import.meta.url));
}

/** onnxruntime-web's dist folder, where its ort-wasm-* files are. */
function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
}

async function galleryFiles(dir: string): Promise<{ files: string[]; names: string[] }> {
  const { files, skipped } = await listImageInputs([dir]);
  for (const s of skipped) log(`gallery: skipped ${s.path}: ${s.reason}`);
  if (files.length > MAX_GALLERY) {
    throw new UsageError(`--gallery: ${dir} has ${files.length} images; at most ${MAX_GALLERY}`, {
      flag: "--gallery",
      hint: "the page embeds every gallery image when it loads; pick a smaller folder",
    });
  }
  const root = resolve(dir);
  return { files: [...files], names: files.map((f) => relative(root, f) || f) };
}

function stopSignal(): Promise<void> {
  return new Promise((ok) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      ok();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
