import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pythonWith } from "../../test/helpers/torch-python.js";
import { type HostTensor, hostTensor } from "../core/host-tensor.js";
import { CONVERT_FORMATS, type ConvertFormat, convertCheckpoint } from "./convert.js";
import { officialStateDict, TINY } from "./layouts.cases.js";
import { loadCheckpoint } from "./load-checkpoint.js";
import { torchSave } from "./pth.cases.js";
import { readPthStateDict } from "./pth.js";
import { writePthFile } from "./pth-writer.js";

const root = mkdtempSync(join(tmpdir(), "convert-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REG = { ...TINY, registers: 4, swiglu: true, embedDim: 16 };
const OUT: Record<ConvertFormat, string> = {
  safetensors: "m.safetensors",
  hf: "m-hf",
  pth: "m.pth",
};

/** Same keys in the same order, and per key the same dtype, shape and bytes. */
function expectBitwise(
  got: ReadonlyMap<string, HostTensor>,
  want: ReadonlyMap<string, HostTensor>,
) {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, w] of want) {
    const g = got.get(k)!;
    expect([k, g.dtype, g.shape]).toEqual([k, w.dtype, w.shape]);
    const bytes = (t: HostTensor) =>
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    expect(bytes(g).equals(bytes(w)), k).toBe(true);
  }
}

describe("dinov2 convert: every layout to every format", () => {
  // A training checkpoint whose student differs from its teacher: only the teacher comes out.
  const teacher = officialStateDict(REG);
  const training = new Map<string, HostTensor>([
    ...[...teacher].map(([k, t]) => [`teacher.backbone.${k}`, t] as const),
    ...[...teacher].map(
      ([k, t]) =>
        [
          `student.backbone.${k}`,
          hostTensor("float32", t.shape, new Float32Array(t.data.length)),
        ] as const,
    ),
  ]);
  const src = join(root, "teacher_checkpoint.pth");
  writeFileSync(src, torchSave(training));

  it.each(CONVERT_FORMATS)("%s, then back to every format, keeps the tensors bit for bit", (f) => {
    const a = join(root, `a-${f}`);
    mkdirSync(a);
    const first = convertCheckpoint(src, join(a, OUT[f]), {
      format: f,
      maxShardBytes: 3000,
      numHeads: 2,
    });
    expect(first.inputLayout).toBe("training");
    expectBitwise(loadCheckpoint(join(a, OUT[f])).stateDict, teacher);
    for (const g of CONVERT_FORMATS) {
      const b = join(root, `b-${f}-${g}`);
      mkdirSync(b);
      convertCheckpoint(join(a, OUT[f]), join(b, OUT[g]), {
        format: g,
        maxShardBytes: 3000,
        numHeads: 2,
      });
      const back = loadCheckpoint(join(b, OUT[g]));
      expectBitwise(back.stateDict, teacher);
      expect(back.options).toMatchObject({ embedDim: 16, depth: 2, numRegisterTokens: 4 });
    }
  });

  it("writes the same .pth bytes whichever format it went through", () => {
    const direct = readFileSync(join(root, "a-pth", "m.pth"));
    for (const f of CONVERT_FORMATS) {
      expect(readFileSync(join(root, `b-${f}-pth`, "m.pth")).equals(direct), f).toBe(true);
    }
  });

  it("shards an HF folder past --max-shard-size, with an index the loader follows", () => {
    const dir = join(root, "a-hf", "m-hf");
    const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
    const shards = new Set(Object.values(index.weight_map as Record<string, string>));
    expect(shards.size).toBeGreaterThan(1);
    expect([...shards].every((s) => existsSync(join(dir, s)))).toBe(true);
    expect(existsSync(join(dir, "model.safetensors"))).toBe(false);
  });

  it("keeps the architecture in the safetensors metadata (an HF model's interpolation)", () => {
    // From HF weights (no offset, HF's convention), through official safetensors, and back.
    const back = loadCheckpoint(join(root, "b-hf-safetensors", "m.safetensors"));
    expect(back.options).toMatchObject({ interpolateOffset: 0, layerNormEps: 1e-6, numHeads: 2 });
  });

  it("refuses to guess the heads of a width that is not a multiple of 64", () => {
    expect(() => convertCheckpoint(src, join(root, "heads.safetensors"))).toThrow(
      /teacher_checkpoint\.pth: cannot tell the number of attention heads of a 16-wide model\n {2}hint: pass --num-heads/,
    );
  });

  it("refuses a sharded index whose shard lacks a tensor the map gives it", () => {
    const dir = join(root, "a-hf", "m-hf");
    const indexFile = join(dir, "model.safetensors.index.json");
    const index = JSON.parse(readFileSync(indexFile, "utf8"));
    index.weight_map["embeddings.not_there"] = Object.values(index.weight_map)[0];
    writeFileSync(indexFile, JSON.stringify(index));
    expect(() => loadCheckpoint(dir)).toThrow(
      /model-00001-of-\d+\.safetensors: key "embeddings\.not_there": missing; .*index\.json says this shard holds it/,
    );
  });
});

/** A python3 with torch, or undefined: the torch checks skip. */
const PYTHON = pythonWith(["torch"]);

describe.skipIf(PYTHON === undefined)("torch.load reads what writePthFile writes", () => {
  it.each([false, true])("zip64 forced: %s", (forceZip64) => {
    const sd = new Map<string, HostTensor>([
      ["w", hostTensor("float32", [2, 3], Float32Array.from([1, -2.5, 3, 1e-8, -0, 6]))],
      ["h", hostTensor("float16", [2], Uint16Array.from([0x3c00, 0xc000]))], // 1, -2
      ["i", hostTensor("int64", [3], BigInt64Array.from([1n, -(2n ** 40n), 7n]))],
      ["s", hostTensor("float64", [], Float64Array.from([0.1]))],
      ["m", hostTensor("bool", [2, 1], Uint8Array.from([1, 0]))],
    ]);
    const file = join(root, `torch-${forceZip64}.pth`);
    writePthFile(file, sd, { forceZip64 });
    expect(readPthStateDict(file)).toEqual(sd);
    const script = [
      "import json, sys, torch",
      "sd = torch.load(sys.argv[1], weights_only=True)",
      "print(json.dumps({k: [str(t.dtype), list(t.shape), t.flatten().tolist()] for k, t in sd.items()}))",
    ].join("\n");
    const r = spawnSync(PYTHON!, ["-c", script, file], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    // torch's own reading of each tensor, dtype, shape and values, written out by hand
    expect(JSON.parse(r.stdout)).toEqual({
      w: ["torch.float32", [2, 3], [1, -2.5, 3, Math.fround(1e-8), -0, 6]],
      h: ["torch.float16", [2], [1, -2]],
      i: ["torch.int64", [3], [1, -(2 ** 40), 7]],
      s: ["torch.float64", [], [0.1]],
      m: ["torch.bool", [2, 1], [true, false]],
    });
  });

  it("and our reader reads what this torch's torch.save writes, strided views included", () => {
    const file = join(root, "from-torch.pth");
    const script = [
      "import sys, torch",
      "a = torch.arange(12, dtype=torch.float32).reshape(3, 4)",
      "torch.save({'a': a, 'aT': a.t(), 'row': a[1], 'h': torch.tensor([1.0, -2.0]).half()}, sys.argv[1])",
    ].join("\n");
    const r = spawnSync(PYTHON!, ["-c", script, file], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const sd = readPthStateDict(file);
    expect([...sd.get("a")!.data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect([...sd.get("aT")!.data]).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(sd.get("aT")!.shape).toEqual([4, 3]);
    expect([...sd.get("row")!.data]).toEqual([4, 5, 6, 7]);
    expect(sd.get("h")).toEqual(hostTensor("float16", [2], Uint16Array.from([0x3c00, 0xc000])));
  });
});
