import assert from "node:assert/strict";
import { cropGrid, cropOrigin, cropOverlap, emptyCrops, wholeDigitCrops } from "../../src/data/crops.ts";

Deno.test("cropGrid() yields 289 positions at stride 4 on 84×84 and 9 on 28×28", () => {
  const shifted = cropGrid(84);
  assert.equal(shifted.perSide, 17);
  assert.equal(shifted.count, 289);
  assert.deepEqual(cropOrigin(shifted, 0), [0, 0]);
  assert.deepEqual(cropOrigin(shifted, 1), [0, 4]);
  assert.deepEqual(cropOrigin(shifted, 17), [4, 0]);
  assert.deepEqual(cropOrigin(shifted, 288), [64, 64]);
  const original = cropGrid(28);
  assert.equal(original.count, 9);
  assert.deepEqual(Array.from({ length: 9 }, (_, t) => cropOrigin(original, t)), [
    [0, 0],
    [0, 4],
    [0, 8],
    [4, 0],
    [4, 4],
    [4, 8],
    [8, 0],
    [8, 4],
    [8, 8],
  ]);
});

Deno.test("cropGrid() and cropOrigin() reject grids and indices that do not fit", () => {
  assert.throws(() => cropGrid(83), /Cannot lay 20×20 crops at stride 4 edge to edge on a 83×83/);
  assert.throws(() => cropGrid(10), RangeError);
  assert.throws(() => cropOrigin(cropGrid(28), 9), /crops 0..8/);
});

Deno.test("emptyCrops() marks exactly the crops that miss every non-zero pixel", async (t) => {
  const grid = cropGrid(84);
  await t.step("blank image: every crop empty", () => {
    assert.ok(emptyCrops(new Uint8Array(84 * 84), grid).every((e) => e === 1));
  });
  await t.step("one pixel: the crops whose window holds it", () => {
    const image = new Uint8Array(84 * 84);
    image[41 * 84 + 42] = 1; // row 41, column 42
    const empty = emptyCrops(image, grid);
    // Crop rows r with 4r ≤ 41 < 4r + 20 → r = 6..10; columns c with 4c ≤ 42 < 4c + 20 → c = 6..10.
    for (let t = 0; t < 289; t++) {
      const r = Math.floor(t / 17), c = t % 17;
      const covers = r >= 6 && r <= 10 && c >= 6 && c <= 10;
      assert.equal(empty[t], covers ? 0 : 1, `crop (${r}, ${c})`);
    }
  });
  await t.step("bottom-right corner pixel: only the last crop", () => {
    const image = new Uint8Array(84 * 84);
    image[84 * 84 - 1] = 200;
    const empty = emptyCrops(image, grid);
    assert.equal(empty.indexOf(0), 288);
    assert.equal(empty.filter((e) => e === 0).length, 1);
  });
  await t.step("wrong image size", () => assert.throws(() => emptyCrops(new Uint8Array(10), grid), RangeError));
});

Deno.test("wholeDigitCrops() picks the 9 crops inside the digit's cell", async (t) => {
  const grid = cropGrid(84);
  const at = (r: number, c: number) => r * 17 + c;
  await t.step("top-left cell", () => {
    assert.deepEqual(wholeDigitCrops(grid, { row: 0, col: 0, side: 28 }), [
      at(0, 0),
      at(0, 1),
      at(0, 2),
      at(1, 0),
      at(1, 1),
      at(1, 2),
      at(2, 0),
      at(2, 1),
      at(2, 2),
    ]);
  });
  await t.step("bottom-right cell", () => {
    const whole = wholeDigitCrops(grid, { row: 56, col: 56, side: 28 });
    assert.deepEqual(whole, [
      at(14, 14),
      at(14, 15),
      at(14, 16),
      at(15, 14),
      at(15, 15),
      at(15, 16),
      at(16, 14),
      at(16, 15),
      at(16, 16),
    ]);
    for (const t of whole) assert.equal(cropOverlap(grid, t, { row: 56, col: 56, side: 28 }), 400);
  });
  await t.step("original MNIST: all 9 crops lie inside the single cell", () => {
    assert.deepEqual(wholeDigitCrops(cropGrid(28), { row: 0, col: 0, side: 28 }), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
  await t.step("partial overlaps are counted in pixels", () => {
    // Crop (6, 6) spans 24..43 in both axes; the centre cell 28..55 overlaps 16×16 of it.
    assert.equal(cropOverlap(grid, at(6, 6), { row: 28, col: 28, side: 28 }), 256);
  });
});
