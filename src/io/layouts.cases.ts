// Test-only (excluded from the build): tiny official backbone state dicts with distinct values.
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import { swigluHidden } from "./checkpoint-options.js";

export interface TinyVit {
  readonly embedDim: number;
  readonly depth: number;
  readonly patchSize: number;
  readonly grid: number;
  readonly registers: number;
  readonly swiglu: boolean;
}

export const TINY: TinyVit = {
  embedDim: 8,
  depth: 2,
  patchSize: 2,
  grid: 3,
  registers: 0,
  swiglu: false,
};

/** The official key set and shapes of a DinoVisionTransformer (mlp_ratio 4, LayerScale on). */
export function officialShapes(v: TinyVit): Map<string, number[]> {
  const d = v.embedDim;
  const shapes = new Map<string, number[]>([
    ["cls_token", [1, 1, d]],
    ["pos_embed", [1, v.grid * v.grid + 1, d]],
    ...(v.registers > 0 ? [["register_tokens", [1, v.registers, d]] as [string, number[]]] : []),
    ["mask_token", [1, d]],
    ["patch_embed.proj.weight", [d, 3, v.patchSize, v.patchSize]],
    ["patch_embed.proj.bias", [d]],
  ]);
  const hidden = v.swiglu ? swigluHidden(d, 4) : 4 * d;
  for (let i = 0; i < v.depth; i++) {
    const b = `blocks.${i}.`;
    const ffn: [string, number[]][] = v.swiglu
      ? [
          ["mlp.w12.weight", [2 * hidden, d]],
          ["mlp.w12.bias", [2 * hidden]],
          ["mlp.w3.weight", [d, hidden]],
          ["mlp.w3.bias", [d]],
        ]
      : [
          ["mlp.fc1.weight", [hidden, d]],
          ["mlp.fc1.bias", [hidden]],
          ["mlp.fc2.weight", [d, hidden]],
          ["mlp.fc2.bias", [d]],
        ];
    const block: [string, number[]][] = [
      ["norm1.weight", [d]],
      ["norm1.bias", [d]],
      ["attn.qkv.weight", [3 * d, d]],
      ["attn.qkv.bias", [3 * d]],
      ["attn.proj.weight", [d, d]],
      ["attn.proj.bias", [d]],
      ["ls1.gamma", [d]],
      ["norm2.weight", [d]],
      ["norm2.bias", [d]],
      ...ffn,
      ["ls2.gamma", [d]],
    ];
    for (const [k, s] of block) shapes.set(b + k, s);
  }
  shapes.set("norm.weight", [d]).set("norm.bias", [d]);
  return shapes;
}

/** Float32 tensors for those shapes; every element is distinct across the whole dict. */
export function officialStateDict(v: TinyVit = TINY): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  let next = 0;
  for (const [key, shape] of officialShapes(v)) {
    const n = shape.reduce((a, b) => a * b, 1);
    out.set(
      key,
      hostTensor(
        "float32",
        shape,
        Float32Array.from({ length: n }, () => next++ * 0.5 - 7),
      ),
    );
  }
  return out;
}
