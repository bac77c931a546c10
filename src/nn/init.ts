// Parameter initialisers (timm/DINOv2 style) drawn from an explicit seeded generator.
import { type HostTensor, hostTensor, numel, type Shape, xoshiro128ss } from "../core/index.js";

export type Init = (shape: Shape, rng: InitRng) => HostTensor<"float32">;

/** A small seeded generator for initialisation only: core's xoshiro128**, Box-Muller normals. */
export class InitRng {
  private readonly next: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    const s = new Uint32Array(4);
    let z = (seed >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      // splitmix32 seeds the state
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      s[i] = (t ^ (t >>> 16)) >>> 0;
    }
    this.next = xoshiro128ss(s);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = Math.max(this.uniform(), 1e-300);
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export const zeros: Init = (shape) => hostTensor("float32", shape);

export const constantInit =
  (value: number): Init =>
  (shape) =>
    hostTensor("float32", shape, new Float32Array(numel(shape)).fill(value));

export const normal =
  (std: number): Init =>
  (shape, rng) =>
    hostTensor(
      "float32",
      shape,
      Float32Array.from({ length: numel(shape) }, () => rng.normal() * std),
    );

/** Normal(0, std) truncated to [-2, 2] (absolute, as timm's trunc_normal_ defaults). */
export const truncNormal =
  (std: number): Init =>
  (shape, rng) =>
    hostTensor(
      "float32",
      shape,
      Float32Array.from({ length: numel(shape) }, () => {
        for (;;) {
          const v = rng.normal() * std;
          if (v >= -2 && v <= 2) return v;
        }
      }),
    );

/** PyTorch's default Conv2d/Linear init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export const kaimingUniform =
  (fanIn: number): Init =>
  (shape, rng) => {
    const b = 1 / Math.sqrt(fanIn);
    return hostTensor(
      "float32",
      shape,
      Float32Array.from({ length: numel(shape) }, () => (rng.uniform() * 2 - 1) * b),
    );
  };
