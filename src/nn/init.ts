// Parameter initialisers (timm/DINOv2 style) drawn from an explicit seeded generator.
import { type HostTensor, hostTensor, numel, type Shape } from "../core/index.js";

export type Init = (shape: Shape, rng: InitRng) => HostTensor<"float32">;

/** A small seeded normal generator (xorshift128+ and Box-Muller) for initialisation only. */
export class InitRng {
  private s0: bigint;
  private s1: bigint;
  private spare: number | undefined;

  constructor(seed: number) {
    this.s0 = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
    this.s1 = BigInt.asUintN(64, this.s0 * 0xbf58476d1ce4e5b9n + 7n);
    for (let i = 0; i < 8; i++) this.uniform();
  }

  uniform(): number {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= BigInt.asUintN(64, x << 23n);
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(BigInt.asUintN(64, this.s1 + y) >> 11n) / 2 ** 53;
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
  (shape) => hostTensor("float32", shape, new Float32Array(numel(shape)).fill(value));

export const normal =
  (std: number): Init =>
  (shape, rng) => hostTensor("float32", shape, Float32Array.from({ length: numel(shape) }, () => rng.normal() * std));

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
    return hostTensor("float32", shape, Float32Array.from({ length: numel(shape) }, () => (rng.uniform() * 2 - 1) * b));
  };
