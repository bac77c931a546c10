// forward_features for inference on onnxruntime's CPU provider, written with the fused kernels it
// runs fastest (models/fused-ops.ts) instead of the primitives the training graph needs:
//   - attention: one com.microsoft Attention (QKV projection, per-head softmax(QKᵀ/√d)V) per block;
//   - residual + LayerNorm: SkipLayerNormalization, which also yields the residual sum;
//   - fc1 + GELU: MatMul then BiasGelu; LayerScale folded into proj / fc2 weights and biases
//     (γ ⊙ (x Wᵀ + b) = x (γ ⊙ W)ᵀ + γ ⊙ b), their bias added inside SkipLayerNormalization.
// Same outputs as DinoVisionTransformer.forwardFeatures within float32 rounding (fused-forward.test.ts).
// onnxruntime's own optimizer finds none of these in our graph (or PyTorch's export) at
// ORT_ENABLE_ALL: its attention and skip-LayerNorm fusions match BERT's exported patterns only.
import {
  constant,
  type HostTensor,
  hostTensor,
  layerNorm,
  matmul,
  reshape,
  slice,
  type Tensor,
  withScope,
} from "../core/index.js";
import type { Block } from "../nn/block.js";
import { Mlp } from "../nn/ffn.js";
import type { Param } from "../nn/module.js";
import { msAttention, msBiasGelu, msMultiHeadAttention, msSkipLayerNorm } from "./fused-ops.js";
import type { VitOptions } from "./presets.js";
import type { DinoVisionTransformer, Features } from "./vision-transformer.js";

/** The fused forward was asked for an architecture or binding it does not cover. */
export class FusedUnsupportedError extends Error {
  override readonly name = "FusedUnsupportedError";
}

/** Why the fused forward cannot run this architecture, or undefined when it can. */
export function fusedUnsupported(o: VitOptions): string | undefined {
  if (o.ffnLayer !== "mlp") return `ffn_layer "${o.ffnLayer}" (only "mlp" is fused)`;
  if (!o.qkvBias || !o.projBias || !o.ffnBias) return "a Linear without bias";
  return undefined;
}

/**
 * forwardFeatures(images) of a model whose parameters are bound to constants (bindConstants),
 * lowered to onnxruntime's fused CPU kernels. Throws FusedUnsupportedError for an architecture it does not
 * cover (see fusedUnsupported).
 */
export function fusedForwardFeatures(
  model: DinoVisionTransformer,
  images: Tensor,
): Features & { readonly normed: Tensor } {
  const { x: x0, batch } = start(model, images);
  const d = model.options.embedDim;
  const { x, normed } = runBlocks(model, x0, model.blocks.length);
  const r = model.options.numRegisterTokens;
  return {
    clsToken: reshape(slice(normed, 1, 0, 1), [batch, d]),
    regTokens: slice(normed, 1, 1, 1 + r),
    patchTokens: slice(normed, 1, 1 + r),
    prenorm: x,
    normed, // [B, N, D]: the final norm over every token
  };
}

/**
 * The normed CLS token [B, D] alone (x_norm_clstoken): as fusedForwardFeatures, but the last block
 * computes only the CLS row past its keys and values (its query, projection, MLP and the final
 * norm run on one token instead of N), which nothing else reads when only CLS is wanted.
 */
export function fusedClsToken(model: DinoVisionTransformer, images: Tensor): Tensor {
  const { x: x0, batch } = start(model, images);
  const o = model.options;
  const depth = model.blocks.length;
  const { x, normed: h } = runBlocks(model, x0, depth - 1);
  const blk = model.blocks[depth - 1]!;
  return withScope(`blocks.${depth - 1}`, () => {
    const row = (t: Tensor) => slice(t, 1, 0, 1); // [B, 1, D]
    const w = host(blk.attn.qkv.weight); // [3D, D]: q, k, v rows
    const d = o.embedDim;
    const part = (i: number) => constant(transposed(rowsOf(w, i * d, (i + 1) * d)));
    const a = withScope("attn", () =>
      msMultiHeadAttention(
        matmul(row(h), part(0)),
        matmul(h, part(1)),
        matmul(h, part(2)),
        c(blk.attn.qkv.bias!),
        o.numHeads,
      ),
    );
    const p = projection(blk, a);
    const mid = withScope("norm2", () =>
      msSkipLayerNorm(p.y, row(x), c(blk.norm2.weight), c(blk.norm2.bias), p.bias, blk.norm2.eps),
    );
    const f = withScope("mlp", () => mlpBranch(blk, mid.normed));
    const n = model.norm;
    const out = withScope("norm", () =>
      msSkipLayerNorm(f.y, mid.sum, c(n.weight), c(n.bias), f.bias, n.eps),
    );
    return reshape(out.normed, [batch, d]);
  });
}

function start(model: DinoVisionTransformer, images: Tensor): { x: Tensor; batch: number } {
  const why = fusedUnsupported(model.options);
  if (why) throw new FusedUnsupportedError(`the fused inference graph does not support ${why}`);
  const { x, groups } = model.tokens([{ images }]);
  const { batch, tokens } = groups[0]!;
  return { x: reshape(x, [batch, tokens, model.options.embedDim]), batch };
}

/**
 * Blocks 0..count-1 on the residual stream x [B, N, D]: { x: their output, normed: its LayerNorm
 * by the next block's norm1, or by the final norm after the last block }.
 */
function runBlocks(
  model: DinoVisionTransformer,
  x0: Tensor,
  count: number,
): { x: Tensor; normed: Tensor } {
  const blocks = model.blocks;
  let x = x0;
  let h = withScope("blocks.0.norm1", () => ln(blocks[0]!, x));
  for (let i = 0; i < count; i++) {
    const blk = blocks[i]!;
    withScope(`blocks.${i}`, () => {
      const a = withScope("attn", () => attentionBranch(blk, h, model.options.numHeads));
      const mid = withScope("norm2", () =>
        msSkipLayerNorm(a.y, x, c(blk.norm2.weight), c(blk.norm2.bias), a.bias, blk.norm2.eps),
      );
      const f = withScope("mlp", () => mlpBranch(blk, mid.normed));
      const next = blocks[i + 1];
      const norm = next ? next.norm1 : model.norm;
      const out = withScope(next ? `blocks.${i + 1}.norm1` : "norm", () =>
        msSkipLayerNorm(f.y, mid.sum, c(norm.weight), c(norm.bias), f.bias, norm.eps),
      );
      x = out.sum;
      h = out.normed;
    });
  }
  return { x, normed: h };
}

function ln(blk: Block, x: Tensor): Tensor {
  return layerNorm(x, c(blk.norm1.weight), c(blk.norm1.bias), blk.norm1.eps);
}

/** Attention with the LayerScale-folded projection; its bias is returned to add in SkipLayerNorm. */
function attentionBranch(blk: Block, h: Tensor, numHeads: number): { y: Tensor; bias: Tensor } {
  const qkvW = host(blk.attn.qkv.weight); // [3D, D]
  const a = msAttention(h, constant(transposed(qkvW)), c(blk.attn.qkv.bias!), numHeads);
  return projection(blk, a);
}

/** The attention output projection with LayerScale folded in, bias returned separately. */
function projection(blk: Block, a: Tensor): { y: Tensor; bias: Tensor } {
  const gamma = blk.ls1 ? host(blk.ls1.gamma) : undefined;
  const w = scaledRows(host(blk.attn.proj.weight), gamma); // [D, D]
  const bias = scaledVec(host(blk.attn.proj.bias!), gamma);
  return { y: withScope("proj", () => matmul(a, constant(transposed(w)))), bias: constant(bias) };
}

function mlpBranch(blk: Block, h: Tensor): { y: Tensor; bias: Tensor } {
  const mlp = blk.mlp;
  if (!(mlp instanceof Mlp)) throw new FusedUnsupportedError("only the Mlp feed-forward is fused");
  const g = withScope("fc1", () =>
    msBiasGelu(matmul(h, constant(transposed(host(mlp.fc1.weight)))), c(mlp.fc1.bias!)),
  );
  const gamma = blk.ls2 ? host(blk.ls2.gamma) : undefined;
  const w = scaledRows(host(mlp.fc2.weight), gamma);
  const y = withScope("fc2", () => matmul(g, constant(transposed(w))));
  return { y, bias: constant(scaledVec(host(mlp.fc2.bias!), gamma)) };
}

/** The bound constant of a parameter. */
function c(p: Param): Tensor {
  return p.t;
}

/** The host value of a parameter bound to a constant. */
function host(p: Param): HostTensor<"float32"> {
  const t = p.t;
  if (t.op.name !== "constant" || t.dtype !== "float32") {
    throw new FusedUnsupportedError("the fused graph needs weights bound as float32 constants");
  }
  return (t.attrs as { value: HostTensor<"float32"> }).value;
}

/** Rows from..to of W [N, K]. */
function rowsOf(w: HostTensor<"float32">, from: number, to: number): HostTensor<"float32"> {
  const k = w.shape[1]!;
  return hostTensor("float32", [to - from, k], w.data.slice(from * k, to * k));
}

/** [N, K] -> [K, N]. */
function transposed(w: HostTensor<"float32">): HostTensor<"float32"> {
  const [n, k] = w.shape as [number, number];
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[j * n + i] = w.data[i * k + j]!;
  return hostTensor("float32", [k, n], out);
}

/** Row i of W [out, in] times gamma[i] (LayerScale after a Linear). */
function scaledRows(w: HostTensor<"float32">, gamma?: HostTensor<"float32">) {
  if (!gamma) return w;
  const [n, k] = w.shape as [number, number];
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) out[i * k + j] = w.data[i * k + j]! * gamma.data[i]!;
  return hostTensor("float32", [n, k], out);
}

function scaledVec(b: HostTensor<"float32">, gamma?: HostTensor<"float32">) {
  if (!gamma) return b;
  return hostTensor(
    "float32",
    b.shape,
    b.data.map((v, i) => v * gamma.data[i]!),
  );
}
