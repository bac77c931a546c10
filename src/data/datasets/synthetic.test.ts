// The synthetic dataset: pure in (seed, index), balanced labels, classes differ in shape.
import { describe, expect, it } from "vitest";
import { createSyntheticDataset } from "./synthetic.js";

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
