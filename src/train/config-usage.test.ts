// Every leaf key of the config schema either acts (the code that turns a config into a run reads
// it) or is on the explicit notice list (accepted, and the run says once what happens instead).
// Reads are recorded by running the real consumers on a proxy of a resolved config.
import { describe, expect, it } from "vitest";
import { configKeysAt, type ResolvedConfig, resolveConfig } from "../config/index.js";
import { configNotices, NOTICED_KEYS } from "../config/notices.js";
import { deriveValues } from "../config/resolve.js";
import { distillOptionsFrom } from "./distill.js";
import { sslLoaderOptions, stepConfigFromTrain } from "./from-config.js";
import { runSettingsFromConfig } from "./run-settings.js";
import { buildSchedules } from "./schedules.js";

/** Every leaf path of the schema (`optim.base_lr`, ...). */
function schemaLeaves(prefix: readonly string[] = []): string[] {
  const keys = configKeysAt(prefix) ?? [];
  return keys.flatMap((k) => {
    const path = [...prefix, k];
    return configKeysAt(path) ? schemaLeaves(path) : [path.join(".")];
  });
}

/** A deep copy of `value` whose reads of leaf values are recorded in `reads`. */
function tracked<T>(value: T, reads: Set<string>, path: string[] = []): T {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return new Proxy(structuredClone(value) as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return v;
      const p = [...path, key];
      const isSection = typeof v === "object" && v !== null && !Array.isArray(v);
      if (!isSection) reads.add(p.join("."));
      return tracked(v, reads, p);
    },
    has(target, key) {
      if (typeof key === "string") reads.add([...path, key].join("."));
      return Reflect.has(target, key);
    },
  }) as T;
}

/** The leaves the run-building code reads (config -> derived values, step, data, schedules, host). */
function leavesRead(resolved: ResolvedConfig): Set<string> {
  const reads = new Set<string>();
  const cfg = tracked(resolved.cfg, reads);
  const derived = deriveValues(cfg, 1);
  const r = { cfg, derived } as ResolvedConfig;
  stepConfigFromTrain(r);
  sslLoaderOptions(r);
  buildSchedules(cfg, derived);
  runSettingsFromConfig(r);
  distillOptionsFrom(r);
  return reads;
}

describe("config keys", () => {
  const leaves = schemaLeaves();

  it("the schema has the official sections' leaves", () => {
    // Guards the walk itself: a broken walk would make the test below pass vacuously.
    expect(leaves).toContain("optim.base_lr");
    expect(leaves).toContain("compute_precision.student.backbone.mixed_precision.param_dtype");
    expect(leaves.length).toBeGreaterThan(60);
  });

  it("every leaf is read by the code or on the notice list, never both, never neither", () => {
    // Some keys act only with others (ibot.head_* with ibot.separate_head): read over configs
    // that between them turn every option on.
    const read = new Set(
      ["vits14-demo", "vitl14"].flatMap((preset) => [
        ...leavesRead(resolveConfig({ preset, sets: ["train.dataset_path=synthetic"] })),
      ]),
    );
    const neither = leaves.filter((k) => !read.has(k) && !NOTICED_KEYS.has(k));
    const both = leaves.filter((k) => read.has(k) && NOTICED_KEYS.has(k));
    expect(neither).toEqual([]);
    expect(both).toEqual([]);
  });

  it("the notice list names only real keys", () => {
    expect([...NOTICED_KEYS.keys()].filter((k) => !leaves.includes(k))).toEqual([]);
  });

  it("an official fp16 config is told once that it runs in fp32", () => {
    const notices = configNotices(resolveConfig({ preset: "vitl14" }).cfg);
    expect(notices.filter((n) => n.includes("mixed precision"))).toHaveLength(1);
    expect(notices.join("\n")).toMatch(/student\.block_chunks=4/);
    expect(configNotices(resolveConfig({ preset: "vits14-demo" }).cfg)).toEqual([]);
    const shared = resolveConfig({ preset: "vits14-demo", sets: ["ibot.head_n_prototypes=7"] });
    expect(configNotices(shared.cfg)).toEqual([
      "notice: ibot.head_n_prototypes=7: the iBOT head is the DINO head (ibot.separate_head=false), so the dino.head_* sizes apply",
    ]);
  });
});

describe("run settings from the config", () => {
  const settings = (sets: string[]) =>
    runSettingsFromConfig(resolveConfig({ preset: "vits14-demo", sets }));

  it("reads dataset path, output dir, workers, checkpoint and eval periods, weights", () => {
    const s = settings([
      "train.dataset_path=/data/pool",
      "train.output_dir=/runs/x",
      "train.num_workers=1",
      "train.saveckp_freq=3",
      "train.OFFICIAL_EPOCH_LENGTH=7",
      "evaluation.eval_period_iterations=40",
      "MODEL.WEIGHTS=/runs/x/checkpoints/checkpoint-0000010.safetensors",
      "student.pretrained_weights=/w/backbone.pth",
    ]);
    expect(s).toMatchObject({
      data: "/data/pool",
      outputDir: "/runs/x",
      workers: 1,
      checkpointEvery: 21,
      evalEvery: 40,
      modelWeights: "/runs/x/checkpoints/checkpoint-0000010.safetensors",
      pretrainedWeights: "/w/backbone.pth",
    });
  });

  it("an official dataset string with a root is read as that folder, and says so", () => {
    const s = settings(["train.dataset_path=ImageNet:split=TRAIN:root=/data/in1k:extra=/x"]);
    expect(s.data).toBe("/data/in1k");
    expect(s.notes.join("\n")).toMatch(/split, extra not used/);
  });

  it("an official dataset string without a root is refused, naming the key and the fix", () => {
    expect(() => settings(["train.dataset_path=ImageNet22k"])).toThrow(
      /train\.dataset_path.*ImageNet22k.*\n?.*--data DIR/s,
    );
  });

  it("more workers than cores are capped, with a note", () => {
    const s = settings(["train.num_workers=4096"]);
    expect(s.workers).toBeLessThan(4096);
    expect(s.notes.join("\n")).toMatch(/num_workers=4096 capped/);
  });
});
