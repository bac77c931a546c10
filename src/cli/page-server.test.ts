// The page server serves its route table and nothing else: traversal attempts, folders and
// unknown paths are 404 (sent raw, as a browser would not: node:http does not normalise paths),
// bodies are refused, and the files it does serve carry the isolation and no-CDN headers.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY, type PageServer, startPageServer } from "./page-server.js";

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(url: string, path: string, method = "GET", body?: Buffer): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        ok({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", fail);
    req.end(body);
  });
}

describe("page server", () => {
  const dir = mkdtempSync(join(tmpdir(), "dinov2-page-server-"));
  let server: PageServer;

  beforeAll(async () => {
    const page = join(dir, "page");
    const ort = join(dir, "ort");
    const gallery = join(dir, "gallery");
    for (const d of [page, ort, gallery]) mkdirSync(d);
    writeFileSync(join(page, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(page, "app.js"), "export {};");
    writeFileSync(join(page, "secret.txt"), "not a page file");
    mkdirSync(join(page, "sub"));
    writeFileSync(join(page, "sub", "deep.js"), "in a subfolder");
    writeFileSync(join(ort, "ort-wasm-simd-threaded.wasm"), "\0asm");
    writeFileSync(join(ort, "ort.node.min.mjs"), "node build, not served");
    writeFileSync(join(gallery, "cat.png"), "png bytes");
    writeFileSync(join(dir, "model.onnx"), "onnx bytes");
    writeFileSync(join(dir, "private.txt"), "outside");
    server = await startPageServer({
      pageDir: page,
      modelFile: join(dir, "model.onnx"),
      ortDir: ort,
      galleryFiles: [join(gallery, "cat.png")],
      galleryNames: ["cat.png"],
      config: {
        model: "m",
        imageSize: 28,
        patchSize: 14,
        numRegisters: 0,
        dim: 8,
        maxImageBytes: 9,
      },
      host: "127.0.0.1",
      port: 0,
    });
  });
  afterAll(async () => server?.close());

  it("binds the given loopback address and serves the page, model, config, ort and gallery", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await send(server.url, "/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["cross-origin-embedder-policy"]).toBe("require-corp");
    expect(index.headers["content-security-policy"]).toContain("default-src 'self'");
    expect((await send(server.url, "/app.js")).body).toBe("export {};");
    expect((await send(server.url, "/model.onnx")).body).toBe("onnx bytes");
    const wasm = await send(server.url, "/ort/ort-wasm-simd-threaded.wasm");
    expect([wasm.status, wasm.headers["content-type"]]).toEqual([200, "application/wasm"]);
    const gallery = await send(server.url, "/gallery/0");
    expect([gallery.status, gallery.headers["content-type"], gallery.body]).toEqual([
      200,
      "image/png",
      "png bytes",
    ]);
    const config = JSON.parse((await send(server.url, "/config.json?x=1")).body);
    expect(config).toMatchObject({ modelUrl: "model.onnx", imageSize: 28, dim: 8 });
    expect(config.gallery).toEqual([{ name: "cat.png", url: "gallery/0" }]);
    expect((await send(server.url, "/app.js", "HEAD")).body).toBe("");
  });

  it("answers 404 to traversal, folders, files not in the table and unknown paths", async () => {
    const paths = [
      "/../private.txt",
      "/../../etc/passwd",
      "/%2e%2e/private.txt",
      "/..%2fprivate.txt",
      "/ort/../model.onnx.bak",
      "/ort/../../private.txt",
      "/gallery/../../private.txt",
      "/gallery/0/../../private.txt",
      "/gallery/",
      "/gallery/1",
      "/gallery/cat.png",
      "/ort/",
      "/ort/ort.node.min.mjs",
      "/secret.txt",
      "/page/index.html",
      "/page.css", // not built
      "/sub",
      "/sub/",
      "/sub/deep.js",
      "//etc/passwd",
      "/index.html/",
      "http://example.com/",
    ];
    for (const p of paths) {
      const r = await send(server.url, p);
      expect([p, r.status]).toEqual([p, 404]);
      expect(r.body).not.toContain("outside");
    }
  });

  it("refuses bodies: 413 over the cap, 405 for other methods", async () => {
    const big = await send(server.url, "/", "POST", Buffer.alloc(MAX_REQUEST_BODY + 1));
    expect(big.status).toBe(413);
    const put = await send(server.url, "/index.html", "PUT", Buffer.from("x"));
    expect([put.status, put.headers.allow]).toEqual([405, "GET, HEAD"]);
    expect((await send(server.url, "/", "DELETE")).status).toBe(405);
  });
});
