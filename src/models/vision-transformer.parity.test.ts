// Backbone parity with the official DinoVisionTransformer and Hugging Face Dinov2Model, for every
// fixture set under $DINOV2_FIXTURES: all sizes and options come from each set's files.
import { expect, it } from "vitest";
import { describeEachFixture, expectClose, readJson } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import { type HostTensor, input, type Tensor } from "../core/index.js";
import { readSafetensorsFile } from "../io/index.js";
import { bindConstants } from "../nn/module.js";
import { loadBackbone } from "./backbone.js";
import { fusedClsToken, fusedForwardFeatures, fusedUnsupported } from "./fused-forward.js";
import { type OfficialVitConfig, vitOptionsFromOfficial } from "./official-config.js";
import { DinoVisionTransformer } from "./vision-transformer.js";

const FEATURE_KEYS = {
  x_norm_clstoken: "clsToken",
  x_norm_regtokens: "regTokens",
  x_norm_patchtokens: "patchTokens",
  x_prenorm: "prenorm",
} as const;

async function run(
  outputs: Record<string, Tensor>,
  feeds: Record<string, HostTensor>,
): Promise<Record<string, HostTensor>> {
  const exe = await (await testRuntime()).compile(outputs);
  return exe.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => exe.inputs.has(k))));
}

describeEachFixture("official_vit.safetensors", "official backbone, set $set.name", ({ path }) => {
  const fx = readSafetensorsFile(path);
  const { config } = readJson<{ config: OfficialVitConfig }>(
    path.replace(/\.safetensors$/, ".json"),
  );
  const weights = new Map(
    [...fx].filter(([k]) => k.startsWith("weights.")).map(([k, v]) => [k.slice(8), v]),
  );
  const hasLs = weights.has("blocks.0.ls1.gamma");
  const build = () => {
    const model = new DinoVisionTransformer(
      vitOptionsFromOfficial(config, { layerscale: hasLs ? 1 : null }),
    );
    bindConstants(model, weights);
    return model;
  };

  for (const variant of ["native", "resized", "masked"] as const) {
    it(`forward_features (${variant}) equals the official outputs`, async () => {
      const model = build();
      const x = fx.get(variant === "resized" ? "in.resized" : "in.native")!;
      const images = input("images", x.shape);
      const masks =
        variant === "masked" ? input("masks", fx.get("in.masks")!.shape, "bool") : undefined;
      const f = model.forwardFeatures(images, masks);
      const outs = Object.fromEntries(
        Object.entries(FEATURE_KEYS).map(([k, ours]) => [k, f[ours]]),
      );
      const got = await run(outs, {
        images: x,
        masks: { ...fx.get("in.masks")!, dtype: "bool" } as HostTensor,
      });
      for (const k of Object.keys(FEATURE_KEYS)) {
        const want = fx.get(`out.${variant}.${k}`);
        if (want) expectClose(`out.${variant}.${k}`, got[k]!, want);
      }
    });
  }

  for (const variant of ["native", "resized"] as const) {
    it(`the fused inference graph (${variant}) equals the official outputs`, async () => {
      const model = build();
      if (fusedUnsupported(model.options)) return; // e.g. SwiGLU sets: the plain graph serves them
      const x = fx.get(variant === "resized" ? "in.resized" : "in.native")!;
      const images = input("images", x.shape);
      const f = fusedForwardFeatures(model, images);
      const outs: Record<string, Tensor> = {
        ...Object.fromEntries(Object.entries(FEATURE_KEYS).map(([k, ours]) => [k, f[ours]])),
        cls_only: fusedClsToken(model, images),
      };
      const got = await run(outs, { images: x });
      for (const k of Object.keys(FEATURE_KEYS)) {
        const want = fx.get(`out.${variant}.${k}`);
        if (want) expectClose(`fused out.${variant}.${k}`, got[k]!, want);
      }
      const cls = fx.get(`out.${variant}.x_norm_clstoken`);
      if (cls) expectClose(`fused CLS-only out.${variant}`, got.cls_only!, cls);
    });
  }

  it("get_intermediate_layers(n=2, reshape, class token, norm) equals the official outputs", async () => {
    const n = [...fx.keys()].filter((k) => /^out\.intermediate\.\d+\.cls$/.test(k)).length;
    expect(n).toBeGreaterThan(0);
    const model = build();
    const x = fx.get("in.native")!;
    const layers = model.getIntermediateLayers(input("images", x.shape), {
      n,
      reshape: true,
      norm: true,
    });
    const outs: Record<string, Tensor> = {};
    layers.forEach((l, i) => {
      outs[`p${i}`] = l.patches;
      outs[`c${i}`] = l.cls;
    });
    const got = await run(outs, { images: x });
    for (let i = 0; i < n; i++) {
      expectClose(
        `out.intermediate.${i}.patch`,
        got[`p${i}`]!,
        fx.get(`out.intermediate.${i}.patch`)!,
      );
      expectClose(`out.intermediate.${i}.cls`, got[`c${i}`]!, fx.get(`out.intermediate.${i}.cls`)!);
    }
  });
});

describeEachFixture("hf_dinov2*", "Hugging Face backbone, $path", ({ path }) => {
  it("last_hidden_state and pooler_output equal transformers'", async () => {
    const bb = loadBackbone(path);
    const fx = readSafetensorsFile(`${path}/expected.safetensors`);
    for (const variant of ["native", "resized"] as const) {
      const x = fx.get(`in.${variant}`)!;
      bindConstants(bb.model, bb.weights);
      const f = bb.model.forwardFeatures(input("images", x.shape));
      const { concat, reshape } = await import("../core/index.js");
      const b = x.shape[0]!;
      const last = concat(
        [reshape(f.clsToken, [b, 1, bb.options.embedDim]), f.regTokens, f.patchTokens],
        1,
      );
      const got = await run({ last, pooled: f.clsToken }, { images: x });
      expectClose(
        `out.${variant}.last_hidden_state`,
        got.last!,
        fx.get(`out.${variant}.last_hidden_state`)!,
      );
      expectClose(
        `out.${variant}.pooler_output`,
        got.pooled!,
        fx.get(`out.${variant}.pooler_output`)!,
      );
    }
  });
});
