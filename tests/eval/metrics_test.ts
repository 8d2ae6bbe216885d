import assert from "node:assert/strict";
import { loadDataset, takeFirst } from "../../src/data/dataset.ts";
import { cropStats } from "../../src/data/crop_stats.ts";
import { meanStd, randomPairs, sortedAbsInnerProducts, uniformityPotential } from "../../src/eval/metrics.ts";

Deno.test("uniformityPotential() is 1 for a collapsed representation and e^-4 for orthogonal pairs", () => {
  const collapsed = new Float32Array([0.6, 0.8, 0.6, 0.8, 0.6, 0.8]);
  const pairs = randomPairs(3, 50);
  assert.ok(Math.abs(uniformityPotential(collapsed, 2, pairs) - 1) < 1e-12);
  // Orthonormal rows: ‖z − z'‖² = 2 for every pair.
  const basis = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.ok(Math.abs(uniformityPotential(basis, 3, randomPairs(3, 50)) - Math.exp(-4)) < 1e-12);
});

Deno.test("randomPairs() draws distinct indices, the same ones every time", () => {
  const pairs = randomPairs(5, 1000);
  assert.ok(pairs.every(([i, j]) => i !== j && i < 5 && j < 5));
  assert.deepEqual(randomPairs(5, 1000), pairs);
  // Every ordered pair appears: the draw is not stuck on a subset.
  assert.equal(new Set(pairs.map(([i, j]) => `${i},${j}`)).size, 20);
  assert.throws(() => randomPairs(1, 3), RangeError);
});

Deno.test("sortedAbsInnerProducts() sorts |⟨z, z'⟩| from largest to smallest", () => {
  const z = new Float32Array([1, 0, -1, 0, 0, 1]);
  assert.deepEqual(sortedAbsInnerProducts(z, 2, [[0, 1], [0, 2], [1, 2]]), [1, 0, 0]);
});

Deno.test("meanStd() gives the population standard deviation", () => {
  assert.deepEqual(meanStd([1, 3]), { mean: 2, std: 1 });
});

Deno.test("cropStats() measures P's mass on non-empty and whole-digit crops", async () => {
  const ds = takeFirst(await loadDataset("shifted", "test"), 1);
  const cell = ds.cells[0]!;
  const oracleCorner = 7 * Math.floor(cell / 3) * 17 + 7 * (cell % 3);
  const probs = new Float32Array(289);
  // Half the mass on a whole-digit crop (non-empty: MNIST digits fill their 20×20 centre), half on
  // a crop of a cell diagonally opposite, which the digit cannot reach.
  probs[oracleCorner + 18] = 0.5;
  const far = cell === 8 ? 0 : 288;
  probs[far] = 0.5;
  const s = cropStats(ds, [0], probs);
  assert.ok(Math.abs(s.concentration - 0.5) < 1e-9);
  assert.ok(Math.abs(s.wholeDigitMass - 0.5) < 1e-9);
  assert.ok(Math.abs(s.cellOverlap - 0.5) < 1e-9);
  assert.ok(Math.abs(s.entropy - Math.log(2)) < 1e-9);
  assert.equal(s.maxProb, 0.5);
  assert.throws(() => cropStats(ds, [0], new Float32Array(10)), RangeError);
});
