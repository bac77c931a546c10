// Positional-embedding interpolation exactly as the official interpolate_pos_encoding: bicubic
// (optionally antialiased) with interpolate_offset changing PyTorch's sampling scale. Written as
// one precomputed [h0*w0, M*M] matrix, so the numbers are PyTorch's and the gradient is free.

import {
  concat,
  constant,
  hostTensor,
  matmul,
  reshape,
  slice,
  type Tensor,
} from "../core/index.js";
import { bicubicWeights } from "../core/resample.js";

export interface PosEmbedInterp {
  readonly antialias: boolean;
  /** interpolate_offset: 0 means PyTorch is given the output size instead of a scale factor. */
  readonly offset: number;
}

/** pos [1, 1+M*M, D] -> [1, 1+gh*gw, D] for a grid of gh rows and gw columns of patches. */
export function interpolatePosEmbed(
  pos: Tensor,
  gh: number,
  gw: number,
  o: PosEmbedInterp,
): Tensor {
  const n = pos.shape[1]! - 1;
  const d = pos.shape[2]!;
  const m = Math.round(Math.sqrt(n));
  if (n === gh * gw && gh === gw) return pos;
  const rows = bicubicWeights(
    m,
    gh,
    o.offset ? { antialias: o.antialias, scale: (gh + o.offset) / m } : { antialias: o.antialias },
  );
  const cols = bicubicWeights(
    m,
    gw,
    o.offset ? { antialias: o.antialias, scale: (gw + o.offset) / m } : { antialias: o.antialias },
  );
  const k = new Float32Array(gh * gw * m * m);
  for (let i = 0; i < gh; i++) {
    for (let j = 0; j < gw; j++) {
      const r = (i * gw + j) * m * m;
      for (let a = 0; a < m; a++) {
        const wa = rows[i * m + a]!;
        if (wa === 0) continue;
        for (let b = 0; b < m; b++) k[r + a * m + b] = wa * cols[j * m + b]!;
      }
    }
  }
  const patches = reshape(slice(pos, 1, 1), [m * m, d]);
  const resized = matmul(constant(hostTensor("float32", [gh * gw, m * m], k)), patches); // [gh*gw, D]
  return concat([slice(pos, 1, 0, 1), reshape(resized, [1, gh * gw, d])], 1);
}
