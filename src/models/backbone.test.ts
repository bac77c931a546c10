// Loading weights without a config: the head count follows DINOv2's 64 dims per head, and a width
// that does not fit that rule is refused rather than given a silently wrong head count.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeSafetensorsFile } from "../io/index.js";
import { createBackbone, loadBackbone } from "./backbone.js";
import { VIT_DEFAULTS } from "./presets.js";

function saved(embedDim: number, numHeads: number): string {
  const path = join(mkdtempSync(join(tmpdir(), "dinov2-bb-")), "w.safetensors");
  const b = createBackbone({ ...VIT_DEFAULTS, imgSize: 28, embedDim, numHeads, depth: 1 }, 0);
  writeSafetensorsFile(path, new Map(b.weights));
  return path;
}

describe("loadBackbone without a config", () => {
  it("takes 64 dims per head, as every DINOv2 model", () => {
    expect(loadBackbone(saved(192, 3)).options.numHeads).toBe(3);
  });

  it("refuses a width that is not a multiple of 64 unless numHeads is given", () => {
    const path = saved(48, 3);
    expect(() => loadBackbone(path)).toThrow(
      /cannot tell the number of attention heads of a 48-wide model/,
    );
    expect(loadBackbone(path, { numHeads: 3 }).options.numHeads).toBe(3);
  });
});
