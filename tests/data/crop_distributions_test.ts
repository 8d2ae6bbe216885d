import assert from "node:assert/strict";
import { FIXED_DISTRIBUTIONS, fixedDistribution, wholeDigitWeights } from "../../src/data/crop_distributions.ts";
import { emptyCrops } from "../../src/data/crops.ts";
import { datasetCropGrid, loadDataset, renderImageBytes, takeFirst } from "../../src/data/dataset.ts";

const ds = takeFirst(await loadDataset("shifted", "test"), 20);
const grid = datasetCropGrid(ds);
const all = Array.from({ length: ds.count }, (_, i) => i);
/** The crops of image i's row that carry mass. */
const support = (w: Float32Array, i: number) =>
  [...w.subarray(i * 289, (i + 1) * 289)].flatMap((v, t) => v > 0 ? [t] : []);
/** The 9 whole-digit crops of image i, from its cell: rows and columns 7·r … 7·r + 2 of the 17 × 17 grid. */
const wholeDigit = (i: number) => {
  const cell = ds.cells[i]!;
  const [r0, c0] = [7 * Math.floor(cell / 3), 7 * (cell % 3)];
  return [0, 1, 2].flatMap((dr) => [0, 1, 2].map((dc) => (r0 + dr) * 17 + c0 + dc));
};
const empty = (i: number) => emptyCrops(renderImageBytes(ds, i, new Uint8Array(84 * 84)), grid);

Deno.test("wholeDigitWeights() puts 1/9 on the crops inside each image's cell", () => {
  const w = wholeDigitWeights(ds, all);
  for (const i of all) {
    assert.deepEqual(support(w, i), wholeDigit(i));
    assert.ok(support(w, i).every((t) => Math.abs(w[i * 289 + t]! - 1 / 9) < 1e-7));
  }
});

Deno.test("fixedDistribution() rows sum to 1 and carry mass where their definition says", async (t) => {
  for (const name of FIXED_DISTRIBUTIONS) {
    await t.step(name, () => {
      const w = fixedDistribution(ds, all, name, 3);
      for (const i of all) {
        const row = w.subarray(i * 289, (i + 1) * 289);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `image ${i} sums to 1`);
        const s = support(w, i), e = empty(i), whole = new Set(wholeDigit(i));
        if (name === "uniform") assert.equal(s.length, 289);
        if (name === "wholeDigit") assert.deepEqual(s, wholeDigit(i));
        if (name === "centre") assert.deepEqual(s, [wholeDigit(i)[4]]);
        if (name === "nonEmpty") assert.deepEqual(s, [...e].flatMap((v, c) => v ? [] : [c]));
        if (name === "partial") assert.ok(s.length === 1 && !e[s[0]!] && !whole.has(s[0]!), `image ${i}: ${s}`);
        if (name === "empty") assert.ok(s.length === 1 && e[s[0]!] === 1, `image ${i}: ${s}`);
      }
    });
  }
});

Deno.test("fixedDistribution() draws an image's crop from its own stream: the same whatever else is asked for", () => {
  const alone = support(fixedDistribution(ds, [7], "partial", 3), 0);
  assert.deepEqual(support(fixedDistribution(ds, all, "partial", 3), 7), alone);
  const draws = new Set(all.map((i) => support(fixedDistribution(ds, [i], "empty", 3), 0)[0]));
  assert.ok(draws.size > 10, "different images get different empty crops");
});

Deno.test("fixedDistribution() names the image that has no crop of the kind asked for", async () => {
  // On original MNIST every crop lies inside the digit's cell: no crop is partial.
  const original = takeFirst(await loadDataset("original", "test"), 2);
  assert.throws(
    () => fixedDistribution(original, [1], "partial"),
    /^RangeError: Cannot build the partial distribution of image 1: no such crop$/,
  );
});
