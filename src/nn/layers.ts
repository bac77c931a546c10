// The small layers: Linear, LayerNorm, LayerScale. Ports of torch.nn and dinov2/layers/layer_scale.py.
import { add, layerNorm, matmul, mT, mul, type Tensor } from "../core/index.js";
import { constantInit, type Init, truncNormal, zeros } from "./init.js";
import { Module, Param } from "./module.js";

export interface LinearOptions {
  readonly bias?: boolean;
  readonly init?: Init;
}

/** y = x Wᵀ + b with W [out, in] (PyTorch layout, so checkpoints load as they are). */
export class Linear extends Module {
  readonly weight: Param;
  readonly bias: Param | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    this.weight = new Param([outFeatures, inFeatures], opts.init ?? truncNormal(0.02));
    this.bias = opts.bias === false ? undefined : new Param([outFeatures], zeros);
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, mT(this.weight.t)); // [.., in] -> [.., out]
    return this.bias ? add(y, this.bias.t) : y;
  }
}

export class LayerNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;

  constructor(
    dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = new Param([dim], constantInit(1));
    this.bias = new Param([dim], zeros);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight.t, this.bias.t, this.eps);
  }
}

/** Per-channel learnable scale. Port of dinov2/layers/layer_scale.py. */
export class LayerScale extends Module {
  readonly gamma: Param;

  constructor(dim: number, initValue = 1e-5) {
    super();
    this.gamma = new Param([dim], constantInit(initValue));
  }

  forward(x: Tensor): Tensor {
    return mul(x, this.gamma.t); // [B, N, D] * [D]
  }
}
