// The config keys that are accepted (official YAML files load unchanged) but cannot act in a
// single process on our providers, each with what runs instead. Every other leaf of the schema is
// read by the code (src/train/config-usage.test.ts walks the schema and checks both lists).
import type { DeepReadonly, TrainConfig } from "./schema.js";

interface Notice {
  /** True when the value would change what runs, were it honoured here. */
  readonly matters: (value: unknown, path: string) => boolean;
  readonly message: string;
}

const PRECISION: Notice = {
  matters: (v) => v !== "fp32",
  message:
    "mixed precision does not apply here: parameters, activations and gradient reductions are fp32 on every provider (results match an fp32 run, not an fp16/bf16 one)",
};
const SHARDING: Notice = {
  matters: (v) => v !== "SHARD_GRAD_OP",
  message:
    "FSDP sharding does not apply: one process holds every parameter (numbers are unchanged)",
};

const MODULES = ["backbone", "dino_head", "ibot_head"] as const;
const precisionKeys = (branch: "teacher" | "student") =>
  MODULES.flatMap((m) => {
    const base = `compute_precision.${branch}.${m}`;
    return [
      [`${base}.sharding_strategy`, SHARDING],
      ...["param_dtype", "reduce_dtype", "buffer_dtype"].map(
        (d) => [`${base}.mixed_precision.${d}`, PRECISION] as const,
      ),
    ] as const;
  });

/** Every accepted-but-inert leaf key, with when and what to say. */
export const NOTICED_KEYS: ReadonlyMap<string, Notice> = new Map<string, Notice>([
  [
    "compute_precision.grad_scaler",
    {
      matters: (v) => v === true,
      message: "no gradient scaler: training is fp32, so there is nothing to unscale",
    },
  ],
  ...precisionKeys("teacher"),
  ...precisionKeys("student"),
  [
    "student.block_chunks",
    {
      matters: (v) => v !== 0,
      message:
        "blocks are chunked only to wrap them for FSDP; one process here, so it changes nothing",
    },
  ],
  [
    "train.cache_dataset",
    {
      matters: (v) => v !== true,
      message: "the official ImageNet entry cache does not apply to image folders",
    },
  ],
  [
    "optim.lr",
    {
      matters: (v) => v !== undefined,
      message:
        "optim.lr is computed from optim.base_lr and optim.scaling_rule (as official); the given value is not used",
    },
  ],
]);

/** One line per distinct notice, naming the keys whose values would act elsewhere. */
export function configNotices(cfg: DeepReadonly<TrainConfig>): string[] {
  const byMessage = new Map<string, string[]>();
  for (const [path, n] of NOTICED_KEYS) {
    const value = path
      .split(".")
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], cfg);
    if (!n.matters(value, path)) continue;
    const keys = byMessage.get(n.message) ?? [];
    keys.push(`${path}=${String(value)}`);
    byMessage.set(n.message, keys);
  }
  if (!cfg.ibot.separate_head) {
    const set = (
      ["head_n_prototypes", "head_bottleneck_dim", "head_nlayers", "head_hidden_dim"] as const
    )
      .filter((k) => cfg.ibot[k] !== cfg.dino[k])
      .map((k) => `ibot.${k}=${cfg.ibot[k]}`);
    if (set.length > 0)
      byMessage.set(
        "the iBOT head is the DINO head (ibot.separate_head=false), so the dino.head_* sizes apply",
        set,
      );
  }
  return [...byMessage].map(([message, keys]) => {
    const shown =
      keys.length > 3
        ? `${keys.slice(0, 3).join(", ")} and ${keys.length - 3} more`
        : keys.join(", ");
    return `notice: ${shown}: ${message}`;
  });
}
