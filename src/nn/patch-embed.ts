// Image to patch tokens: Conv2d(C, D, kernel = stride = patch) written as a reshape and one GEMM.
// Port of dinov2/layers/patch_embed.py (weights keep the conv layout [D, C, p, p]).
import { add, matmul, mT, reshape, ShapeError, type Tensor, transpose } from "../core/index.js";
import { kaimingUniform } from "./init.js";
import { Module, Param } from "./module.js";

export class PatchEmbed extends Module {
  readonly proj: ConvWeights;

  constructor(
    readonly patchSize: number,
    readonly inChans: number,
    readonly embedDim: number,
  ) {
    super();
    this.proj = new ConvWeights(embedDim, inChans, patchSize);
  }

  /** [B, C, S_h, S_w] -> [B, P, D] with P = (S_h/p)(S_w/p), row-major over the patch grid. */
  forward(x: Tensor): Tensor {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const p = this.patchSize;
    if (h % p !== 0 || w % p !== 0) {
      const near = (s: number) =>
        `${Math.max(p, Math.floor(s / p) * p)} or ${Math.ceil(s / p) * p}`;
      throw new ShapeError(
        "patchEmbed",
        `image size ${h}x${w} is not a multiple of the patch size ${p}`,
        {
          hint: `use a height of ${near(h)} and a width of ${near(w)}`,
        },
      );
    }
    const gh = h / p;
    const gw = w / p;
    // [B, C, gh, p, gw, p] -> [B, gh, gw, C, p, p] -> [B*gh*gw, C*p*p]
    const cols = reshape(transpose(reshape(x, [b, c, gh, p, gw, p]), [0, 2, 4, 1, 3, 5]), [
      b * gh * gw,
      c * p * p,
    ]);
    const wFlat = reshape(this.proj.weight.t, [this.embedDim, c * p * p]);
    const y = add(matmul(cols, mT(wFlat)), this.proj.bias.t); // [B*P, D]
    return reshape(y, [b, gh * gw, this.embedDim]);
  }
}

/** The conv's parameters under the official names `proj.weight` [D, C, p, p] and `proj.bias`. */
export class ConvWeights extends Module {
  readonly weight: Param;
  readonly bias: Param;

  constructor(out: number, inChans: number, k: number) {
    super();
    const fanIn = inChans * k * k;
    this.weight = new Param([out, inChans, k, k], kaimingUniform(fanIn));
    this.bias = new Param([out], kaimingUniform(fanIn));
  }
}
