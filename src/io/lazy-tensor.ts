// Tensors of an opened checkpoint that are read from the file only when asked for, so loading
// one branch of a training checkpoint never reads the other branch or the optimizer state.
import type { DType } from "../core/dtype.js";
import type { HostTensor } from "../core/host-tensor.js";
import type { Shape } from "../core/shape.js";

/** A tensor whose dtype and shape are known and whose bytes are read by `load()`. */
export class LazyTensor {
  constructor(
    readonly dtype: DType,
    readonly shape: Shape,
    /** Bytes the stored tensor occupies in the file. */
    readonly storedBytes: number,
    private readonly loader: () => HostTensor,
  ) {}

  load(): HostTensor {
    return this.loader();
  }
}

/** An opened checkpoint file (or set of shards): tensor metadata now, bytes on `load()`. Close it
 * when done; a LazyTensor of a closed checkpoint cannot be loaded. */
export interface LazyStateDict {
  readonly tensors: ReadonlyMap<string, LazyTensor>;
  /** A safetensors file's `__metadata__`, when it has one. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  close(): void;
}

/** Loads the tensors named by `keys` (all by default), in the dict's order. */
export function loadTensors(
  lazy: ReadonlyMap<string, LazyTensor>,
  keys: ReadonlySet<string> = new Set(lazy.keys()),
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, t] of lazy) if (keys.has(k)) out.set(k, t.load());
  return out;
}

/** Runs `use` on an opened checkpoint and closes it whatever happens. */
export function withLazy<T>(lazy: LazyStateDict, use: (d: LazyStateDict) => T): T {
  try {
    return use(lazy);
  } finally {
    lazy.close();
  }
}
