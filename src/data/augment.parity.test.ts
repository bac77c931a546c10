// Parity of the torchvision functional ops against every augment_functional.safetensors fixture.
// Parameters are parsed from the case keys (e.g. out.gaussian_blur_k9_s1.5); unknown keys fail.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturesRoot, setsWith } from "../../test/helpers/fixtures.js";
import type { HostTensor } from "../core/host-tensor.js";
import { readSafetensorsFile } from "../io/safetensors.js";
import { gaussianBlur } from "./blur.js";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  rgbToGrayscale,
  solarize,
  solarizeUint8,
} from "./color.js";
import { hflip, resizedCrop } from "./geometry.js";
import { type FloatImage, normalize } from "./image.js";

const FILE = "augment_functional.safetensors";

interface OpInput {
  readonly image: FloatImage;
  readonly imageUint8: Uint8Array | undefined;
}
type Result = Float32Array | Uint8Array;
type Case = { readonly re: RegExp; readonly run: (m: RegExpExecArray, x: OpInput) => Result };

const num = (s: string | undefined): number => Number.parseFloat(s ?? "NaN");

const CASES: readonly Case[] = [
  { re: /^brightness_(-?[\d.]+)$/, run: (m, x) => adjustBrightness(x.image, num(m[1])).data },
  { re: /^contrast_(-?[\d.]+)$/, run: (m, x) => adjustContrast(x.image, num(m[1])).data },
  { re: /^saturation_(-?[\d.]+)$/, run: (m, x) => adjustSaturation(x.image, num(m[1])).data },
  { re: /^hue_(-?[\d.]+)$/, run: (m, x) => adjustHue(x.image, num(m[1])).data },
  {
    re: /^grayscale(?:_(1|3))?$/,
    run: (m, x) => rgbToGrayscale(x.image, m[1] === "1" ? 1 : 3).data,
  },
  { re: /^hflip$/, run: (_m, x) => hflip(x.image).data },
  { re: /^normalize_imagenet$/, run: (_m, x) => normalize(x.image).data },
  {
    re: /^gaussian_blur_k(\d+)_s([\d.]+)$/,
    run: (m, x) => gaussianBlur(x.image, num(m[1]), num(m[2])).data,
  },
  {
    re: /^solarize_uint8_(\d+)$/,
    run: (m, x) => {
      const u = x.imageUint8;
      if (!u) throw new Error("solarize_uint8 case needs in.image_uint8");
      return solarizeUint8({ data: u, channels: 1, height: 1, width: u.length }, num(m[1])).data;
    },
  },
  { re: /^solarize_([\d.]+)$/, run: (m, x) => solarize(x.image, num(m[1])).data },
  {
    re: /^resized_crop_t(-?\d+)_l(-?\d+)_h(\d+)_w(\d+)_to(\d+)(?:x(\d+))?_bicubic(_aa)?$/,
    run: (m, x) => {
      const outH = num(m[5]);
      const outW = m[6] === undefined ? outH : num(m[6]);
      const args = [num(m[1]), num(m[2]), num(m[3]), num(m[4]), outH, outW] as const;
      return resizedCrop(x.image, ...args, { antialias: m[7] !== undefined }).data;
    },
  },
];

describe("augment_functional parity", () => {
  const sets = setsWith(FILE, { optional: true }).map(({ set }) => set);
  // A fixture root may hold any subset of the fixture kinds: an absent kind is a skip that names
  // the root, never a silent pass; test/fixtures-known.parity.test.ts fails a root with none at all.
  if (sets.length === 0) it.skip(`no ${FILE} under ${fixturesRoot()}: skipped`, () => {});
  for (const { name: setName, dir } of sets) {
    const tensors = readSafetensorsFile(join(dir, FILE));
    const input = loadInput(tensors, dir);
    const meta = readMeta(dir);
    for (const [key, ref] of tensors) {
      if (!key.startsWith("out.")) continue;
      const name = key.slice(4);
      it(`${setName}: ${name} matches torchvision (${meta})`, () => {
        const c = CASES.map((k) => ({ k, m: k.re.exec(name) })).find((x) => x.m);
        expect(c, `no op handles fixture case "${name}"`).toBeDefined();
        const got = c!.k.run(c!.m!, input);
        expect(got.length).toBe(ref.data.length);
        expectClose(got, ref, name);
      });
    }
  }
});

function readMeta(dir: string): string {
  const p = join(dir, FILE.replace(".safetensors", ".json"));
  if (!existsSync(p)) return "no json";
  const j = JSON.parse(readFileSync(p, "utf8")) as { source?: string };
  return j.source?.slice(0, 40) ?? "json";
}

function loadInput(t: Map<string, HostTensor>, dir: string): OpInput {
  const f = t.get("in.image");
  const u = t.get("in.image_uint8");
  const ref = f ?? u;
  if (ref?.shape.length !== 3) throw new Error(`${dir}: no [C,H,W] in.image or in.image_uint8`);
  const [C, H, W] = ref!.shape as [number, number, number];
  const data = f
    ? (f.data as Float32Array)
    : Float32Array.from(u!.data as Uint8Array, (v) => v / 255);
  return {
    image: { data, channels: C, height: H, width: W },
    imageUint8: u ? (u.data as Uint8Array) : undefined,
  };
}

function expectClose(got: Result, ref: HostTensor, name: string): void {
  const r = ref.data as Float32Array | Uint8Array;
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < r.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(r[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - r[i]!));
  }
  const tol = got instanceof Uint8Array ? 0 : 1e-4 * Math.max(maxRef, 1e-12);
  expect(maxErr, `${name}: max abs err ${maxErr} vs tolerance ${tol}`).toBeLessThanOrEqual(tol);
}
