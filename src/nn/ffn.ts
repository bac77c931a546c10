// Feed-forward layers: Mlp (fc1, GELU, fc2) and SwiGLU (w12, SiLU gate, w3).
// Ports of dinov2/layers/mlp.py and dinov2/layers/swiglu_ffn.py (SwiGLUFFNFused).
import { gelu, mul, silu, split, type Tensor, withScope } from "../core/index.js";
import { Linear } from "./layers.js";
import { Module } from "./module.js";

export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, bias = true) {
    super();
    this.fc1 = new Linear(dim, hidden, { bias });
    this.fc2 = new Linear(hidden, dim, { bias });
  }

  forward(x: Tensor): Tensor {
    const h = withScope("fc1", () => gelu(this.fc1.forward(x)));
    return withScope("fc2", () => this.fc2.forward(h));
  }
}

/** SwiGLUFFNFused's hidden size rule: 2/3 of the MLP hidden size, rounded up to a multiple of 8. */
export function swigluHidden(mlpHidden: number): number {
  return Math.floor((Math.floor((mlpHidden * 2) / 3) + 7) / 8) * 8;
}

export class SwiGluFfn extends Module {
  readonly w12: Linear;
  readonly w3: Linear;
  readonly hidden: number;

  constructor(dim: number, mlpHidden: number, bias = true) {
    super();
    this.hidden = swigluHidden(mlpHidden);
    this.w12 = new Linear(dim, 2 * this.hidden, { bias });
    this.w3 = new Linear(this.hidden, dim, { bias });
  }

  forward(x: Tensor): Tensor {
    const x12 = withScope("w12", () => this.w12.forward(x));
    const [x1, x2] = split(x12, -1, [this.hidden, this.hidden]);
    return withScope("w3", () => this.w3.forward(mul(silu(x1!), x2!)));
  }
}
