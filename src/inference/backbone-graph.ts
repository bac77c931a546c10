// The inference graphs of a backbone, weights bound as constants: the embedding outputs (CLS,
// optionally patch and register tokens) and the Hugging Face Dinov2Model outputs for export.

import { ConfigError } from "../config/errors.js";
import { input, reshape, slice, type Tensor, withScope } from "../core/index.js";
import type { Backbone } from "../models/backbone.js";
import { fusedClsToken, fusedForwardFeatures, fusedUnsupported } from "../models/fused-forward.js";
import { bindConstants } from "../nn/module.js";

/** The graph input: normalised images [B, 3, S, S], named as HF/transformers.js feed it. */
export const PIXEL_VALUES = "pixel_values";

export interface EmbedGraphOptions {
  /** Also output the normed patch tokens [B, P, D]. */
  readonly patchTokens?: boolean;
  /** Also output the normed register tokens [B, R, D]; the model must have registers. */
  readonly registers?: boolean;
  /**
   * Lower attention, residual + LayerNorm and fc1 + GELU to onnxruntime's fused CPU kernels
   * (models/fused-forward.ts; com.microsoft ops that only onnxruntime runs). The architecture must
   * be one it covers (see `canFuse`).
   */
  readonly fused?: boolean;
}

/** Why `fused` cannot be used for this backbone, or undefined when it can. */
export function canFuse(backbone: Backbone): string | undefined {
  return fusedUnsupported(backbone.options);
}

function checkFusable(backbone: Backbone): void {
  const why = canFuse(backbone);
  if (why) {
    throw new ConfigError("fused", `the fused inference graph does not support ${why}`, {
      hint: "leave fused off for this model",
    });
  }
}

/** forward_features at batch `batch`: { cls [B, D], patches? [B, P, D], registers? [B, R, D] }. */
export function embedGraph(
  backbone: Backbone,
  batch: number,
  imageSize: number,
  opts: EmbedGraphOptions = {},
): Record<string, Tensor> {
  if (opts.registers && backbone.options.numRegisterTokens === 0) {
    throw new ConfigError("registers", "the model has no register tokens to output", {
      hint: "use a *_reg4 model, or leave registers off",
    });
  }
  if (opts.fused) checkFusable(backbone);
  bindConstants(backbone.model, backbone.weights);
  const x = input(PIXEL_VALUES, [batch, backbone.options.inChans, imageSize, imageSize]);
  // CLS alone: the last block only computes the CLS row past its keys and values.
  if (opts.fused && !opts.patchTokens && !opts.registers) {
    return { cls: fusedClsToken(backbone.model, x) };
  }
  const f = opts.fused
    ? fusedForwardFeatures(backbone.model, x)
    : backbone.model.forwardFeatures(x);
  return {
    cls: f.clsToken,
    ...(opts.patchTokens ? { patches: f.patchTokens } : {}),
    ...(opts.registers ? { registers: f.regTokens } : {}),
  };
}

/**
 * Dinov2Model's outputs: `last_hidden_state` [B, N, D] (final norm over cls, registers and
 * patches, in that order) and `pooler_output` [B, D] (its CLS row).
 */
export function hfGraph(
  backbone: Backbone,
  batch: number,
  imageSize: number,
  opts: { readonly fused?: boolean } = {},
): Record<string, Tensor> {
  if (opts.fused) checkFusable(backbone);
  bindConstants(backbone.model, backbone.weights);
  const x = input(PIXEL_VALUES, [batch, backbone.options.inChans, imageSize, imageSize]);
  const model = backbone.model;
  const hidden = opts.fused
    ? fusedForwardFeatures(model, x).normed
    : withScope("norm", () => model.norm.forward(model.forwardFeatures(x).prenorm)); // [B, N, D]
  const pooled = reshape(slice(hidden, 1, 0, 1), [batch, backbone.options.embedDim]); // [B, D]
  return { last_hidden_state: hidden, pooler_output: pooled };
}

/** Token counts of the graph's outputs at `imageSize`. */
export function tokenCounts(
  backbone: Backbone,
  imageSize: number,
): { patches: number; registers: number } {
  const grid = imageSize / backbone.options.patchSize;
  return { patches: grid * grid, registers: backbone.options.numRegisterTokens };
}
