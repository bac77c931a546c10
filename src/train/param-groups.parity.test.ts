// Parity of paramMultipliers with the `param_groups` table of every ssl_step_*.json fixture, in every
// fixture set under $DINOV2_FIXTURES (default ../shared/fixtures/reference, from the repo root).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturesRoot, setsWith } from "../../test/helpers/fixtures.js";
import { paramMultipliers } from "./param-groups.js";

interface OfficialGroup {
  readonly lr_multiplier: number;
  readonly wd_multiplier: number;
  readonly is_last_layer: boolean;
}

interface SslStepJson {
  readonly config: {
    readonly depth: number;
    readonly layerwise_decay: number;
    readonly patch_embed_lr_mult: number;
    readonly block_chunks?: number;
  };
  readonly param_groups: Readonly<Record<string, OfficialGroup>>;
}

const fixtures = setsWith("ssl_step_*.json", { optional: true }).map(({ set, path }) => ({
  label: `${set.name}/${basename(path)}`,
  path,
}));

describe(`param groups vs ssl_step fixtures under ${fixturesRoot()}`, () => {
  // A fixture root may hold any subset of the fixture kinds: an absent kind is a skip that names
  // the root, never a silent pass; test/fixtures-known.parity.test.ts fails a root with none at all.
  if (fixtures.length === 0) it.skip("no ssl_step_*.json: skipped", () => {});

  it.each(fixtures)(
    "$label: every parameter's lr/wd multipliers and last-layer flag",
    ({ path }) => {
      const json = JSON.parse(readFileSync(path, "utf8")) as SslStepJson;
      const { config } = json;
      const opts = {
        numLayers: config.depth,
        layerwiseDecay: config.layerwise_decay,
        patchEmbedLrMult: config.patch_embed_lr_mult,
        chunkedBlocks: (config.block_chunks ?? 0) > 0,
      };
      const names = Object.keys(json.param_groups);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const want = json.param_groups[name]!;
        const got = paramMultipliers(name, opts);
        const where = `${name} (depth ${config.depth}, decay ${config.layerwise_decay})`;
        expect(
          Math.abs(got.lrMultiplier - want.lr_multiplier),
          `lr_multiplier of ${where}`,
        ).toBeLessThanOrEqual(Math.abs(want.lr_multiplier) * 1e-14);
        expect(got.wdMultiplier, `wd_multiplier of ${where}`).toBe(want.wd_multiplier);
        expect(got.isLastLayer, `is_last_layer of ${where}`).toBe(want.is_last_layer);
      }
    },
  );
});
