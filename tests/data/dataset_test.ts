import assert from "node:assert/strict";
import {
  cellSquare,
  datasetHashes,
  extractCrops,
  loadDataset,
  makeDataset,
  renderImageBytes,
  renderImages,
  takeFirst,
} from "../../src/data/dataset.ts";
import { cropGrid, cropOrigin, emptyCrops } from "../../src/data/crops.ts";
import { loadMnist } from "../../src/data/mnist.ts";

const fixture = JSON.parse(await Deno.readTextFile(new URL("../../fixtures/dataset.json", import.meta.url)));

Deno.test("shifted MNIST is byte-identical across generations and equals the pinned hashes", async () => {
  for (const split of ["train", "test"] as const) {
    const mnist = await loadMnist(split);
    const a = datasetHashes(makeDataset("shifted", split, mnist));
    const b = datasetHashes(makeDataset("shifted", split, mnist));
    assert.deepEqual(a, b);
    assert.deepEqual(a, fixture.shifted[split]);
  }
  const original = datasetHashes(await loadDataset("original", "test"));
  assert.deepEqual(original, fixture.original.test);
});

Deno.test("every shifted image holds its digit, unchanged, in exactly the recorded cell", async () => {
  const ds = await loadDataset("shifted", "test");
  const image = new Uint8Array(84 * 84);
  const cellCounts = new Array(9).fill(0);
  for (let i = 0; i < ds.count; i++) {
    renderImageBytes(ds, i, image);
    const { row, col } = cellSquare(ds, i);
    cellCounts[ds.cells[i]!]++;
    for (let r = 0; r < 84; r++) {
      for (let c = 0; c < 84; c++) {
        const inCell = r >= row && r < row + 28 && c >= col && c < col + 28;
        const expected = inCell ? ds.digits[i * 784 + (r - row) * 28 + (c - col)] : 0;
        if (image[r * 84 + c] !== expected) assert.fail(`image ${i} pixel (${r}, ${c})`);
      }
    }
  }
  // The cell is drawn uniformly: each of the 9 holds about 10000 / 9 ≈ 1111 digits.
  for (const n of cellCounts) assert.ok(Math.abs(n - 1111) < 120, `cell count ${n}`);
});

Deno.test("extractCrops() equals cutting the crop out of the rendered image", async () => {
  const ds = takeFirst(await loadDataset("shifted", "train"), 50);
  const grid = cropGrid(84);
  const images = Array.from({ length: 50 }, (_, i) => i);
  const crops = images.map((i) => (i * 37) % 289);
  const cut = extractCrops(ds, images, crops);
  const full = renderImages(ds, images);
  for (let n = 0; n < 50; n++) {
    const [r0, c0] = cropOrigin(grid, crops[n]!);
    for (let r = 0; r < 20; r++) {
      for (let c = 0; c < 20; c++) {
        assert.equal(cut[n * 400 + r * 20 + c], full[n * 7056 + (r0 + r) * 84 + c0 + c]);
      }
    }
  }
});

Deno.test("a shifted image has at most 11 × 11 non-empty crops, about 16% on average", async () => {
  const ds = takeFirst(await loadDataset("shifted", "test"), 500);
  const image = new Uint8Array(84 * 84);
  let total = 0;
  for (let i = 0; i < ds.count; i++) {
    const empty = emptyCrops(renderImageBytes(ds, i, image), cropGrid(84));
    const nonEmpty = empty.filter((e) => e === 0).length;
    // A full 28×28 cell meets 11 crop rows and 11 crop columns; at least one crop sees the digit.
    assert.ok(nonEmpty >= 1 && nonEmpty <= 121, `image ${i}: ${nonEmpty} non-empty crops`);
    total += nonEmpty;
  }
  // The uniform P(T|X)'s mass on non-empty crops, 0.16 in the reference implementation.
  const fraction = total / (ds.count * 289);
  assert.ok(fraction > 0.14 && fraction < 0.18, `non-empty fraction ${fraction}`);
});

Deno.test("original MNIST is the digits themselves and rejects bad subsets", async () => {
  const ds = await loadDataset("original", "test");
  assert.equal(ds.side, 28);
  assert.ok(ds.cells.every((c) => c === 0));
  const image = renderImageBytes(ds, 3, new Uint8Array(784));
  assert.deepEqual(image, ds.digits.subarray(3 * 784, 4 * 784));
  assert.throws(() => takeFirst(ds, 0), RangeError);
  assert.throws(() => takeFirst(ds, 10_001), /Cannot take 10001 images of original\/test/);
  assert.throws(() => renderImages(ds, [10_000]), /Cannot use image 10000/);
});
