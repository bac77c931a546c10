import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { escapeHtml, pngDataUrl, renderReport } from "./html-report.js";
import { blankImage, readPng } from "./png.js";

describe("renderReport", () => {
  const img = blankImage(3, 2, [10, 200, 30]);
  const html = renderReport({
    title: "run <1>",
    sections: [
      {
        heading: "a & b",
        blocks: [
          { kind: "text", text: 'say "hi" <script>' },
          { kind: "table", rows: [["k<", "v>"]] },
          { kind: "pre", text: '{\n  "x": 1\n}' },
          { kind: "image", image: img, alt: "a picture" },
        ],
      },
    ],
  });

  it("escapes every text it is given", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
    expect(html).toContain("<title>run &lt;1&gt;</title>");
    expect(html).toContain("<h2>a &amp; b</h2>");
    expect(html).toContain("say &quot;hi&quot; &lt;script&gt;");
    expect(html).not.toContain("<script");
  });

  it("is self-contained: the image is a data: URL that decodes to the same pixels", () => {
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\//);
    const url = /<img src="(data:image\/png;base64,[^"]+)" width="3" height="2"/.exec(html)![1]!;
    expect(url).toBe(pngDataUrl(img));
    const file = join(mkdtempSync(join(tmpdir(), "report-")), "a.png");
    writeFileSync(file, Buffer.from(url.split(",")[1]!, "base64"));
    const back = readPng(file);
    expect([back.width, back.height, ...back.data.subarray(0, 3)]).toEqual([3, 2, 10, 200, 30]);
  });
});
