// The official teacher_checkpoint.pth of every fixture set, read as a whole SSL network (the
// distillation teacher, the start of continued pretraining): the backbone equals the fixture's
// official_vit weights; heads are taken when they fit the backbone and refused, naming the key
// and both widths, when they do not (the fixtures' heads come from the dino_head fixture and are
// not sized for the backbone, per the fixtures README); a checkpoint without heads is refused.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJson, setsWith } from "../../test/helpers/fixtures.js";
import { readPthStateDict, readSafetensorsFile } from "../io/index.js";
import { loadSslNetwork } from "./ssl-teacher.js";

const sets = setsWith("teacher_checkpoint.pth");

describe.skipIf(sets.length === 0)("SSL network from teacher_checkpoint.pth", () => {
  it.each(sets)("$set.name", ({ path }) => {
    const json = join(dirname(path), "official_vit.json");
    const numHeads = existsSync(json)
      ? readJson<{ config: { num_heads: number } }>(json).config.num_heads
      : undefined;
    const raw = readPthStateDict(path);
    const width = raw.get("teacher.backbone.cls_token")!.shape[2]!;
    const headIn = raw.get("teacher.dino_head.mlp.0.weight")?.shape[1];
    const load = () => loadSslNetwork(path, numHeads ? { numHeads } : {});
    if (headIn === undefined) expect(load).toThrow(/has no dino_head\.\* weights for the teacher/);
    else if (headIn !== width)
      expect(load).toThrow(
        new RegExp(`dino_head takes ${headIn}-wide input, but the backbone is ${width} wide`),
      );
    else {
      const net = load();
      const ref = join(dirname(path), "official_vit.safetensors");
      if (existsSync(ref))
        for (const [k, t] of readSafetensorsFile(ref))
          expect(
            Buffer.from(net.weights.get(`backbone.${k}`)!.data.buffer).equals(
              Buffer.from(t.data.buffer),
            ),
            k,
          ).toBe(true);
      expect(net.arch.dinoHead?.inDim).toBe(width);
    }
  });
});
