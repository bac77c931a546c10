// The static server behind `dinov2 serve`: a fixed table of routes made at start (the built page's
// files, the ONNX model, config.json, onnxruntime-web's wasm files, the gallery images by index),
// so no request path ever reaches the file system: anything else, `../` included, is 404, and
// there is no directory listing. Only GET and HEAD; request bodies are refused (413 over
// MAX_REQUEST_BODY, 405 otherwise): images never leave the browser. node:http and a 30-line
// table instead of a static-file library: we serve a known list of files, not a folder.
import { createReadStream, readdirSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import type { PageConfig } from "../web/page-config.js";

/** Bytes a request body may declare before it is refused with 413 (no route takes a body). */
export const MAX_REQUEST_BODY = 1024;

export interface PageServerOptions {
  /** The built page (scripts/build-page.ts): its .html, .js, .css and .map files are served. */
  readonly pageDir: string;
  readonly modelFile: string;
  /** onnxruntime-web's dist folder; its ort-wasm-* files are served under /ort/. */
  readonly ortDir: string;
  /** Gallery image files, served as /gallery/<index>. */
  readonly galleryFiles: readonly string[];
  readonly config: Omit<PageConfig, "gallery" | "modelUrl">;
  /** Gallery names as the page shows them, one per gallery file. */
  readonly galleryNames: readonly string[];
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

export interface PageServer {
  readonly url: string;
  readonly routes: readonly string[];
  close(): Promise<void>;
}

/** What the page is made of; nothing else in the page folder is served (nor its subfolders). */
const PAGE_EXTENSIONS: readonly string[] = [".html", ".js", ".css", ".map"];

type Route = { readonly file: string } | { readonly body: Buffer };

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".avif": "image/avif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
};

const HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  // Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer).
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  // Nothing from elsewhere: the page works offline and cannot phone home.
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; img-src 'self' blob: data:; connect-src 'self' blob: data:; style-src 'self'; base-uri 'none'; form-action 'none'",
};

/** Builds the route table, then listens; resolves once the port is bound. */
export async function startPageServer(opts: PageServerOptions): Promise<PageServer> {
  const routes = routeTable(opts);
  const server = createServer((req, res) => handle(routes, req, res));
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port, opts.host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    routes: [...routes.keys()],
    close: () => closeServer(server),
  };
}

function routeTable(opts: PageServerOptions): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const e of readdirSync(opts.pageDir, { withFileTypes: true })) {
    if (e.isFile() && PAGE_EXTENSIONS.includes(extname(e.name)))
      routes.set(`/${e.name}`, { file: join(opts.pageDir, e.name) });
  }
  const index = routes.get("/index.html");
  if (!index) throw new Error(`${opts.pageDir} has no index.html: the page is not built`);
  routes.set("/", index);
  routes.set("/model.onnx", { file: opts.modelFile });
  for (const f of readdirSync(opts.ortDir)) {
    if (/^ort-wasm-[\w.-]+\.(wasm|mjs)$/.test(f))
      routes.set(`/ort/${f}`, { file: join(opts.ortDir, f) });
  }
  const gallery = opts.galleryFiles.map((file, i) => {
    routes.set(`/gallery/${i}`, { file });
    return { name: opts.galleryNames[i] ?? String(i), url: `gallery/${i}` };
  });
  const config: PageConfig = { ...opts.config, modelUrl: "model.onnx", gallery };
  routes.set("/config.json", { body: Buffer.from(`${JSON.stringify(config)}\n`) });
  return routes;
}

function handle(routes: Map<string, Route>, req: IncomingMessage, res: ServerResponse): void {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_REQUEST_BODY || req.headers["transfer-encoding"] !== undefined) {
    refuse(res, 413, `request bodies over ${MAX_REQUEST_BODY} bytes are refused`, true);
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    refuse(res, 405, "only GET and HEAD");
    return;
  }
  // Exact match against the table: no decoding, no joining, so `..` cannot name anything.
  const path = (req.url ?? "").split("?")[0]!;
  const route = routes.get(path);
  if (!route) {
    refuse(res, 404, "not found");
    return;
  }
  const type = TYPES[extname("file" in route ? route.file : path).toLowerCase()];
  res.writeHead(200, {
    ...HEADERS,
    "Content-Type": type ?? "application/octet-stream",
    "Content-Length": "file" in route ? statSync(route.file).size : route.body.length,
  });
  if (req.method === "HEAD") res.end();
  else if ("body" in route) res.end(route.body);
  else
    createReadStream(route.file)
      .on("error", () => res.destroy())
      .pipe(res);
}

function refuse(res: ServerResponse, status: number, text: string, close = false): void {
  res.writeHead(status, {
    ...HEADERS,
    "Content-Type": "text/plain; charset=utf-8",
    ...(close ? { Connection: "close" } : {}),
  });
  res.end(`${status} ${text}\n`);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}
