// The `dinov2 serve` page: drop or pick images -> the PCA of each image's patch features; the last
// two images -> mutual nearest patch matches; a gallery (embedded on load) -> each image's nearest
// neighbours by CLS cosine similarity. All computing happens here in the browser; the server only
// hands out files. The math is the Node code's own (src/eval/pca.ts, patch-matching.ts, knn.ts).
import { nearestNeighbours } from "../eval/knn.js";
import { drawPatchMatches, mutualNearestPatches } from "../eval/patch-matching.js";
import { pcaPatchPicture } from "../eval/pca.js";
import { imageFromChw, type RgbImage } from "../eval/rgb-image.js";
import { decodeToRgb } from "./decode.js";
import { rgbCanvas } from "./draw.js";
import { type ImageFeatures, PageModel } from "./model.js";
import type { PageConfig } from "./page-config.js";

interface Embedded {
  readonly name: string;
  readonly features: ImageFeatures;
  /** What the model saw: the center crop, un-normalised. */
  readonly view: RgbImage;
}

interface GalleryFeatures {
  readonly names: string[];
  readonly urls: string[];
  readonly cls: Float32Array; // [G, D]
}

/** Read by the end-to-end test (test/e2e/serve.test.ts) and handy in the console. */
interface PageHandle {
  state: "loading" | "ready" | "failed";
  provider?: string;
  readonly errors: string[];
  features(i: number): { name: string; cls: number[]; patches: number[] } | undefined;
}

const NEIGHBOURS = 5;
const embedded: Embedded[] = [];
const handle: PageHandle = {
  state: "loading",
  errors: [],
  features: (i) => {
    const e = embedded[i];
    if (!e) return undefined;
    return { name: e.name, cls: [...e.features.cls], patches: [...e.features.patches] };
  },
};
(window as unknown as { dinov2Page: PageHandle }).dinov2Page = handle;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

async function start(): Promise<void> {
  const config = (await (await fetch("config.json")).json()) as PageConfig;
  setStatus(`Loading ${config.model}…`);
  const model = await PageModel.load(config);
  handle.provider = model.provider;
  $("model").textContent =
    `${config.model} · ${config.imageSize}×${config.imageSize} px, ${model.grid}×${model.grid} patches · onnxruntime-web on ${model.provider.toUpperCase()}`;
  const gallery = await embedGallery(model, config);
  const onFiles = (files: Iterable<File>) =>
    void addImages(model, config, gallery, [...files]).catch(fail);
  $<HTMLInputElement>("pick").addEventListener("change", (e) => {
    onFiles((e.target as HTMLInputElement).files ?? []);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    onFiles(e.dataTransfer?.files ?? []);
  });
  $<HTMLInputElement>("foreground").addEventListener("change", () => drawPcas(model));
  handle.state = "ready";
  document.body.dataset.state = "ready";
  setStatus("Drop images, or pick them.");
}

async function embedGallery(model: PageModel, config: PageConfig): Promise<GalleryFeatures> {
  const d = config.dim;
  const out: GalleryFeatures = { names: [], urls: [], cls: new Float32Array(0) };
  const rows: Float32Array[] = [];
  const skipped: string[] = [];
  for (const [i, entry] of config.gallery.entries()) {
    setStatus(`Embedding the gallery: ${i + 1}/${config.gallery.length}`);
    try {
      const blob = await (await fetch(entry.url)).blob();
      rows.push((await model.embed(await decodeToRgb(blob))).cls);
      out.names.push(entry.name);
      out.urls.push(entry.url);
    } catch (e) {
      skipped.push(`${entry.name}: ${message(e)}`);
    }
  }
  const cls = new Float32Array(rows.length * d);
  for (const [i, r] of rows.entries()) cls.set(r, i * d);
  if (config.gallery.length === 0) $("gallery-section").hidden = true;
  else
    $("gallery-note").textContent =
      `${rows.length} gallery images embedded` +
      (skipped.length ? `; skipped ${skipped.length}: ${skipped.join("; ")}` : "");
  handle.errors.push(...skipped.map((s) => `gallery ${s}`));
  return { ...out, cls };
}

async function addImages(
  model: PageModel,
  config: PageConfig,
  gallery: GalleryFeatures,
  files: File[],
): Promise<void> {
  for (const file of files) {
    if (file.size > config.maxImageBytes) {
      report(`${file.name}: ${file.size} bytes is over the ${config.maxImageBytes}-byte limit`);
      continue;
    }
    setStatus(`Embedding ${file.name}…`);
    let features: ImageFeatures;
    try {
      features = await model.embed(await decodeToRgb(file));
    } catch (e) {
      report(`${file.name}: could not decode or embed (${message(e)})`);
      continue;
    }
    const s = config.imageSize;
    const e = { name: file.name, features, view: imageFromChw(features.pixels, s, s) };
    embedded.push(e);
    $("images").append(imageCard(model, e, embedded.length - 1));
    showNeighbours(model, gallery, e);
  }
  drawMatches(model);
  setStatus(`${embedded.length} image${embedded.length === 1 ? "" : "s"} embedded.`);
}

function imageCard(model: PageModel, e: Embedded, index: number): HTMLElement {
  const card = document.createElement("figure");
  card.className = "card";
  card.dataset.index = String(index);
  card.append(rgbCanvas(e.view, "view"), pcaCanvas(model, e));
  const caption = document.createElement("figcaption");
  caption.textContent = e.name;
  card.append(caption);
  return card;
}

function pcaCanvas(model: PageModel, e: Embedded): HTMLCanvasElement {
  const isForeground = $<HTMLInputElement>("foreground").checked;
  const picture = pcaPatchPicture(e.features.patches, model.grid, model.grid, {
    cellPx: model.config.patchSize,
    ...(isForeground ? { foregroundThreshold: 0.5 } : {}),
  });
  return rgbCanvas(picture, "pca");
}

function drawPcas(model: PageModel): void {
  for (const card of document.querySelectorAll<HTMLElement>("#images .card")) {
    const e = embedded[Number(card.dataset.index)]!;
    card.querySelector("canvas.pca")?.replaceWith(pcaCanvas(model, e));
  }
}

function drawMatches(model: PageModel): void {
  const box = $("matches");
  if (embedded.length < 2) return;
  const [a, b] = embedded.slice(-2) as [Embedded, Embedded];
  const matches = mutualNearestPatches(a.features.patches, b.features.patches, model.config.dim);
  const grid = { gridH: model.grid, gridW: model.grid };
  const picture = drawPatchMatches(a.view, grid, b.view, grid, matches, { maxLines: 40 });
  const note = document.createElement("p");
  note.textContent = `${a.name} ↔ ${b.name}: ${matches.length} mutual nearest patch pairs, the ${Math.min(40, matches.length)} most similar drawn`;
  box.replaceChildren(rgbCanvas(picture, "matches"), note);
}

function showNeighbours(model: PageModel, gallery: GalleryFeatures, e: Embedded): void {
  const n = gallery.names.length;
  if (n === 0) return;
  const k = Math.min(NEIGHBOURS, n);
  const nn = nearestNeighbours(gallery.cls, n, e.features.cls, 1, model.config.dim, k);
  const row = document.createElement("div");
  row.className = "neighbours";
  const query = rgbCanvas(e.view, "query");
  row.append(query);
  for (let j = 0; j < k; j++) {
    const g = nn.indices[j]!;
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.src = gallery.urls[g]!;
    img.alt = gallery.names[g]!;
    const cap = document.createElement("figcaption");
    cap.textContent = `${gallery.names[g]} · ${nn.sims[j]!.toFixed(3)}`;
    fig.append(img, cap);
    row.append(fig);
  }
  $("neighbours").append(row);
}

function setStatus(text: string): void {
  $("status").textContent = text;
}

function report(text: string): void {
  handle.errors.push(text);
  const li = document.createElement("li");
  li.textContent = text;
  $("errors").append(li);
}

function fail(e: unknown): void {
  handle.state = "failed";
  document.body.dataset.state = "failed";
  report(message(e));
  setStatus("Something failed; see below.");
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

start().catch(fail);
