// The synthetic dataset: pure in (seed, index), balanced labels, classes differ in shape.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRng } from "../rng.js";
import { createSyntheticDataset, renderSynthetic, renderSyntheticWithMask } from "./synthetic.js";

describe("createSyntheticDataset", () => {
  const spec = { kind: "synthetic", seed: 42, length: 50, size: 32 } as const;

  it("renders the same image for the same (seed, index) and another for another index", async () => {
    const a = await createSyntheticDataset(spec).get(7);
    const b = await createSyntheticDataset(spec).get(7);
    const c = await createSyntheticDataset(spec).get(17);
    const d = await createSyntheticDataset({ ...spec, seed: 43 }).get(7);
    expect(a!.data).toEqual(b!.data);
    expect(a!.label).toBe(c!.label);
    expect(a!.data).not.toEqual(c!.data);
    expect(a!.data).not.toEqual(d!.data);
    expect([a!.height, a!.width, a!.channels, a!.data.length]).toEqual([32, 32, 3, 32 * 32 * 3]);
  });

  it("labels cycle through the classes and name them", async () => {
    const ds = createSyntheticDataset({ ...spec, numClasses: 4 });
    expect(ds.classNames).toEqual(["disc", "square", "triangle", "ring"]);
    const labels = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => (await ds.get(i))!.label));
    expect(labels).toEqual([0, 1, 2, 3, 0, 1]);
  });

  it("images use a range of intensities, not one flat colour", async () => {
    const img = (await createSyntheticDataset(spec).get(3))!;
    const values = new Set(img.data);
    expect(values.size).toBeGreaterThan(40);
  });

  it("rejects an impossible class count", () => {
    expect(() =>
      createSyntheticDataset({ ...spec, numClasses: 11 }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: synthetic dataset: numClasses must be 2..10; got 11]`,
    );
  });
});

describe("renderSyntheticWithMask", () => {
  it("leaves the images of existing seeds unchanged", async () => {
    // sha256 prefixes of the pixels as rendered before masks existed (commit 6e569f1, the same
    // get() calls with that commit's synthetic.ts).
    const pinned: [number, number, number, string][] = [
      [42, 7, 32, "e5b3d24e002848a9"],
      [1, 3, 64, "f141bb41a8e683c1"],
      [1003, 5, 112, "13e2e351169c7b85"],
    ];
    for (const [seed, index, size, hash] of pinned) {
      const img = await createSyntheticDataset({
        kind: "synthetic",
        seed,
        length: 10,
        size,
        layout: "scene",
      }).get(index);
      expect(createHash("sha256").update(img!.data).digest("hex").slice(0, 16)).toBe(hash);
    }
  });

  it("marks the drawn object with label + 1 and the rest 0, same pixels as renderSynthetic", () => {
    const rng = () => createRng(5).split("synthetic").split(2);
    const { image, mask } = renderSyntheticWithMask(rng(), 2, 48);
    expect(image.data).toEqual(renderSynthetic(rng(), 2, 48, "scene").data);
    expect(new Set(mask)).toEqual(new Set([0, 3]));
    const covered = mask.reduce((n, v) => n + (v ? 1 : 0), 0);
    expect(covered).toBeGreaterThan(48 * 48 * 0.02);
    expect(covered).toBeLessThan(48 * 48 * 0.9);
  });

  it("draws one object of 30–45% radius in the object layout", () => {
    // A disc of radius r·48 covers π·r² of the image, clipped by the border at most to about
    // half: 0.5·π·0.3² ≈ 14% at the least, π·0.45² ≈ 64% at the most.
    for (let i = 0; i < 20; i++) {
      const { mask } = renderSyntheticWithMask(createRng(9).split(i), 0, 48, "object");
      const covered = mask.reduce((n, v) => n + (v ? 1 : 0), 0) / mask.length;
      expect(covered).toBeGreaterThan(0.14);
      expect(covered).toBeLessThan(0.65);
    }
  });
});
