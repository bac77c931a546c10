// Builds the `dinov2 serve` page with esbuild: src/web/main.ts (and the shared pure-TS eval
// transform, PCA and matching code it imports) bundled for browsers into <out>/app.js, with
// index.html and page.css beside it. Run by `npm run build` (out: dist/page); the browser test
// builds into a temporary folder. The output is a flat folder: app.js and the chunks it imports
// (the WebGPU and the WASM builds of onnxruntime-web are separate chunks, loaded when used),
// their source maps, index.html and page.css; the server serves exactly the files it finds there. onnxruntime-web is bundled in its "extern wasm" form, so its
// wasm files load from /ort/ on the same server (served from node_modules), never a CDN.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "src", "web");

/** Bundles the page into `outDir` (created if needed). */
export async function buildPage(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) {
    if (/^(app|chunk-[\w-]+)\.js(\.map)?$/.test(f)) rmSync(join(outDir, f)); // a previous build's
  }
  const result = await build({
    entryPoints: [join(web, "main.ts")],
    outdir: outDir,
    entryNames: "app",
    chunkNames: "chunk-[hash]",
    splitting: true,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["onnxruntime-web-use-extern-wasm"],
    minify: true,
    sourcemap: "linked",
    legalComments: "eof",
    logLevel: "warning",
    logOverride: { "unsupported-dynamic-import": "silent" },
  });
  if (result.errors.length > 0)
    throw new Error(`page build failed: ${result.errors.length} errors`);
  for (const f of ["index.html", "page.css"]) copyFileSync(join(web, f), join(outDir, f));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(root, "dist", "page"));
  await buildPage(out);
  process.stdout.write(`page built into ${out}\n`);
}
