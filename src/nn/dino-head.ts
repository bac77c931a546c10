// The DINO/iBOT projection head: MLP, L2 normalisation, weight-normalised last layer whose
// weight_g is trained. Port of dinov2/layers/dino_head.py.
import {
  div,
  gelu,
  l2Normalize,
  matmul,
  mT,
  mul,
  sqrt,
  sum,
  type Tensor,
  withScope,
} from "../core/index.js";
import { constantInit, kaimingUniform } from "./init.js";
import { Linear } from "./layers.js";
import { Module, Param } from "./module.js";

export interface DinoHeadOptions {
  readonly inDim: number;
  readonly outDim: number;
  readonly hiddenDim: number;
  readonly bottleneckDim: number;
  readonly nlayers: number;
  readonly mlpBias?: boolean;
}

export class DinoHead extends Module {
  /** Sequential indices as the official nn.Sequential: Linear at 0, 2, 4 (GELUs between). */
  readonly mlp: (Linear | null)[];
  readonly lastLayer: WeightNormLinear;

  constructor(o: DinoHeadOptions) {
    super();
    const bias = o.mlpBias ?? true;
    const dims =
      o.nlayers === 1
        ? [o.inDim, o.bottleneckDim]
        : [o.inDim, ...Array<number>(o.nlayers - 1).fill(o.hiddenDim), o.bottleneckDim];
    this.mlp = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      if (i > 0) this.mlp.push(null);
      this.mlp.push(new Linear(dims[i]!, dims[i + 1]!, { bias }));
    }
    this.lastLayer = new WeightNormLinear(o.bottleneckDim, o.outDim);
  }

  /** [R, inDim] -> [R, outDim] prototype logits. */
  forward(x: Tensor): Tensor {
    let h = x;
    this.mlp.forEach((layer, i) => {
      if (layer) h = withScope(`mlp.${i}`, () => layer.forward(h));
      else h = gelu(h);
    });
    const z = l2Normalize(h, -1, 1e-12);
    return withScope("last_layer", () => this.lastLayer.forward(z));
  }
}

/** weight_norm(Linear(in, out, bias=False)): W = g * v / ||v|| per output row. */
export class WeightNormLinear extends Module {
  readonly weightG: Param;
  readonly weightV: Param;

  constructor(inDim: number, outDim: number) {
    super();
    this.weightG = new Param([outDim, 1], constantInit(1));
    this.weightV = new Param([outDim, inDim], kaimingUniform(inDim));
  }

  forward(x: Tensor): Tensor {
    const v = this.weightV.t;
    const w = mul(this.weightG.t, div(v, sqrt(sum(mul(v, v), 1, { keepDims: true })))); // [K, bottleneck]
    return matmul(x, mT(w));
  }
}
