// An official `teacher_checkpoint.pth` with heads that fit its backbone, as the distillation
// teacher (`dinov2 distill --teacher`) and as the start of continued pretraining
// (`dinov2 train --init-from`), heads included.
// - With PyTorch: test/helpers/official-teacher.py builds the teacher with the official code
//   (SSLMetaArch.__init__ from the official default config, tiny sizes, a separate iBOT head) and
//   saves it as the official do_test does, with the official teacher's backbone CLS/patch outputs
//   and DINO/iBOT head outputs on two images. The network that enters our distillation run and
//   our continued-pretraining run must give those outputs (1e-4 of the largest): the heads are
//   mapped right, not just loaded. Skipped, saying why, without /usr/bin/python3 + torch.
// - Without PyTorch (CI): a network we build, written in the official layout by writePthFile
//   (`{"teacher": state_dict}`), read back through the same two loaders bit for bit.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { resolveConfig } from "../../src/config/index.js";
import { type HostTensor, input, reshape } from "../../src/core/index.js";
import { readPthStateDict, readSafetensorsFile, writePthFile } from "../../src/io/index.js";
import { initWeights } from "../../src/models/backbone.js";
import { bindConstants } from "../../src/nn/module.js";
import { stepConfigFromTrain } from "../../src/train/from-config.js";
import { runTraining } from "../../src/train/loop.js";
import { type SslArch, SslModel } from "../../src/train/ssl-model.js";
import { loadSslNetwork } from "../../src/train/ssl-teacher.js";
import { expectClose } from "../helpers/fixtures.js";
import { testRuntime } from "../helpers/op-check.js";
import { TINY_TRAIN_SETS } from "../helpers/tiny-config.js";
import { pythonWith } from "../helpers/torch-python.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const REFERENCE = resolve(ROOT, "../shared/reference");
const PYTHON = pythonWith(["torch", "omegaconf"]);
const skipWhy =
  PYTHON === undefined
    ? "no Python with torch and omegaconf ($DINOV2_PYTHON, python3, /usr/bin/python3)"
    : !existsSync(join(REFERENCE, "dinov2", "train", "ssl_meta_arch.py"))
      ? `no official dinov2 package at ${REFERENCE}`
      : undefined;
if (skipWhy) console.warn(`official teacher_checkpoint.pth parity skipped: ${skipWhy}`);

/** The architecture test/helpers/official-teacher.py builds (its vit_test and head sizes). */
const OFFICIAL_SETS = [
  "student.arch=vit_nano",
  "student.embed_dim=64",
  "student.num_heads=4",
  "student.depth=2",
  "student.patch_size=14",
  "crops.global_crops_size=56",
  "crops.local_crops_size=28",
  "crops.local_crops_number=2",
  "train.batch_size_per_gpu=2",
  "dino.head_n_prototypes=96",
  "dino.head_hidden_dim=80",
  "dino.head_bottleneck_dim=32",
  "ibot.separate_head=true",
  "ibot.head_n_prototypes=72",
  "ibot.head_hidden_dim=56",
  "ibot.head_bottleneck_dim=24",
  "train.OFFICIAL_EPOCH_LENGTH=3",
  "optim.epochs=2",
  "train.num_workers=0",
];
const NUM_HEADS = 4;
const DATA = { kind: "synthetic", seed: 3, length: 16, size: 64 } as const;

const same = (a: HostTensor, b: HostTensor) =>
  Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(
    Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
  );

/** The `prefix` network of a training state, by parameter key. */
function branch(state: ReadonlyMap<string, HostTensor>, prefix: string): Map<string, HostTensor> {
  return new Map(
    [...state].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]),
  );
}

/** The distillation teacher inside a `dinov2 distill` run's first checkpoint (frozen state). */
async function distillTeacherState(dir: string, teacher: string): Promise<Map<string, HostTensor>> {
  const out = join(dir, "distilled");
  const err: string[] = [];
  const code = await runCli(
    [
      "distill",
      "--teacher",
      teacher,
      "--teacher-num-heads",
      String(NUM_HEADS),
      "--preset",
      "vits14-demo",
      "--data",
      "synthetic",
      "--output-dir",
      out,
      "--iters",
      "1",
      "--threads",
      "2",
      ...[...TINY_TRAIN_SETS, "train.num_workers=0"].flatMap((s) => ["--set", s]),
    ],
    () => {},
    (t) => err.push(t),
  );
  expect(code, err.join("\n")).toBe(0);
  return branch(
    readSafetensorsFile(join(out, "checkpoints", "checkpoint-0000001.safetensors")),
    "teacher.",
  );
}

/** Student and teacher of a continued-pretraining run started from `file` (before any step). */
async function initFromState(dir: string, file: string) {
  const resolved = resolveConfig({ preset: "vits14-demo", sets: OFFICIAL_SETS });
  const r = await runTraining({
    resolved,
    dataset: DATA,
    outputDir: join(dir, "continued"),
    iters: 0,
    threads: 2,
    initFrom: file,
  });
  return {
    student: branch(r.state.tensors, "student."),
    teacher: branch(r.state.tensors, "teacher."),
  };
}

/** Backbone CLS/patch tokens and both heads' outputs of `arch` with `weights` on `images`. */
async function outputs(
  arch: SslArch,
  weights: ReadonlyMap<string, HostTensor>,
  images: HostTensor,
): Promise<Record<string, HostTensor>> {
  const m = new SslModel(arch);
  bindConstants(m, weights);
  const f = m.backbone.forwardFeatures(input("images", images.shape));
  const [b, n, d] = [images.shape[0]!, (images.shape[2]! / 14) ** 2, arch.backbone.embedDim];
  const ibot = m.ibotHead!.forward(reshape(f.patchTokens, [b * n, d]));
  const exe = await (await testRuntime()).compile({
    cls: f.clsToken,
    patches: f.patchTokens,
    dino_head: m.dinoHead!.forward(f.clsToken),
    ibot_head: reshape(ibot, [b, n, arch.ibotHead!.outDim]),
  });
  return exe.run({ images });
}

describe.skipIf(skipWhy !== undefined)(
  "official teacher_checkpoint.pth (made by the official code)",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "dinov2-official-teacher-"));
    const file = join(dir, "teacher_checkpoint.pth");
    let expected: Map<string, HostTensor>;
    beforeAll(() => {
      const script = join(ROOT, "test", "helpers", "official-teacher.py");
      const r = spawnSync(PYTHON!, ["-W", "ignore", script, REFERENCE, dir], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`official-teacher.py failed:\n${r.stderr}`);
      expected = readPthStateDict(join(dir, "expected.pth"));
    }, 60_000);

    const check = async (what: string, arch: SslArch, weights: ReadonlyMap<string, HostTensor>) => {
      const got = await outputs(arch, weights, expected.get("in.images")!);
      for (const k of ["cls", "patches", "dino_head", "ibot_head"])
        expectClose(`${what}: ${k}`, got[k]!, expected.get(`out.${k}`)!);
    };

    it("read as a network: backbone, DINO head and iBOT head give the official outputs", async () => {
      const net = loadSslNetwork(file, { numHeads: NUM_HEADS });
      expect(net.arch.dinoHead).toMatchObject({
        inDim: 64,
        outDim: 96,
        hiddenDim: 80,
        bottleneckDim: 32,
      });
      expect(net.arch.ibotHead).toMatchObject({
        inDim: 64,
        outDim: 72,
        hiddenDim: 56,
        bottleneckDim: 24,
      });
      await check("loadSslNetwork", net.arch, net.weights);
    });

    it("as the distillation teacher: the frozen teacher in the run gives the official outputs", async () => {
      const net = loadSslNetwork(file, { numHeads: NUM_HEADS });
      const teacher = await distillTeacherState(dir, file);
      // The frozen teacher's mask token is never read (no masking of the teacher's input), so the
      // step does not declare it; everything else is state.
      const missing = [...net.weights.keys()].filter((k) => !teacher.has(k));
      expect(missing).toEqual(["backbone.mask_token"]);
      teacher.set("backbone.mask_token", net.weights.get("backbone.mask_token")!);
      await check("distill teacher", net.arch, teacher);
    }, 120_000);

    it("as --init-from: student and teacher both start as the official network", async () => {
      const net = loadSslNetwork(file, { numHeads: NUM_HEADS });
      const { student, teacher } = await initFromState(dir, file);
      await check("init-from student", net.arch, student);
      await check("init-from teacher", net.arch, teacher);
    }, 120_000);
  },
);

describe("teacher_checkpoint.pth in the official layout, written by writePthFile", () => {
  it("loads bit for bit as the distillation teacher and as --init-from, heads included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dinov2-pth-teacher-"));
    const backbone = stepConfigFromTrain(
      resolveConfig({ preset: "vits14-demo", sets: OFFICIAL_SETS }),
    ).arch.backbone;
    expect(backbone.embedDim).toBe(64);
    const arch: SslArch = {
      backbone,
      dinoHead: { inDim: 64, outDim: 96, hiddenDim: 80, bottleneckDim: 32, nlayers: 3 },
      ibotHead: { inDim: 64, outDim: 72, hiddenDim: 56, bottleneckDim: 24, nlayers: 3 },
    };
    const weights = initWeights(new SslModel(arch), 7);
    // `torch.save({"teacher": model.teacher.state_dict()}, path)`, as the official do_test.
    const file = join(dir, "teacher_checkpoint.pth");
    writePthFile(file, weights, { nestUnder: "teacher" });
    expect([...readPthStateDict(file).keys()][0]).toBe("teacher.backbone.cls_token");

    const net = loadSslNetwork(file, { numHeads: NUM_HEADS });
    expect(net.arch.ibotHead).toEqual(arch.ibotHead);
    const compare = (what: string, got: ReadonlyMap<string, HostTensor>, skip: string[] = []) => {
      for (const [k, t] of weights)
        if (!skip.includes(k))
          expect(got.has(k) && same(got.get(k)!, t), `${what}: ${k}`).toBe(true);
    };
    compare("loadSslNetwork", net.weights);
    compare("distill teacher", await distillTeacherState(dir, file), ["backbone.mask_token"]);
    const { student, teacher } = await initFromState(dir, file);
    compare("init-from student", student);
    compare("init-from teacher", teacher);
  }, 120_000);
});
