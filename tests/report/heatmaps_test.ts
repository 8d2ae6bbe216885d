import assert from "node:assert/strict";
import { decode } from "npm:fast-png@8.0.0";
import { cropHeatmapFigure, policyTrainingFigure } from "../../src/report/heatmaps.ts";
import { cropGrid, wholeDigitCrops } from "../../src/data/crops.ts";
import { viridis } from "../../src/report/png.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from the IHDR chunk, which always comes first, after the signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function oneHot(length: number, t: number): Float32Array {
  const p = new Float32Array(length);
  p[t] = 1;
  return p;
}

Deno.test("cropHeatmapFigure() lays out image and heat-map pairs at the given scale", async (t) => {
  await t.step("8 shifted images, 4 per row, at 3×", () => {
    const images = Array.from({ length: 8 }, () => new Uint8Array(84 * 84));
    const probs = Array.from({ length: 8 }, (_, k) => oneHot(289, k));
    const { width, height } = pngSize(cropHeatmapFigure(images, 84, probs, 17));
    // Margins 16; pairs of a 252-px image, an 8-px gap and a 17 × 15 = 255-px heat map, 24 apart;
    // then the colour bar (24 gap, 16 bar, 6 gap, 70 label). Rows: 255 panel + 6 + 14 label + 14.
    assert.equal(width, 16 + 4 * (252 + 8 + 255) + 3 * 24 + 24 + 16 + 6 + 70 + 16);
    assert.equal(height, 16 + 2 * (255 + 6 + 14 + 14) - 14 + 16);
  });
  await t.step("fewer images than columns: one row of just those", () => {
    const one = pngSize(cropHeatmapFigure([new Uint8Array(784)], 28, [oneHot(9, 0)], 3));
    const two = pngSize(
      cropHeatmapFigure([new Uint8Array(784), new Uint8Array(784)], 28, [
        oneHot(9, 0),
        oneHot(9, 1),
      ], 3),
    );
    assert.equal(two.height, one.height);
    assert.equal(two.width - one.width, 84 + 8 + 84 + 24);
  });
  await t.step("columns and scale options", () => {
    const images = Array.from({ length: 3 }, () => new Uint8Array(784));
    const probs = Array.from({ length: 3 }, () => new Float32Array(9).fill(1 / 9));
    const tall = pngSize(cropHeatmapFigure(images, 28, probs, 3, { columns: 1, scale: 1 }));
    const wide = pngSize(cropHeatmapFigure(images, 28, probs, 3, { columns: 3, scale: 1 }));
    // At 1×: a 28-px image, an 8-px gap and a 3 × 9 = 27-px heat map; rows of 28 + 6 + 7 + 14.
    assert.equal(wide.width - tall.width, 2 * (28 + 8 + 27 + 24));
    assert.equal(tall.height - wide.height, 2 * (28 + 6 + 7 + 14));
  });
});

Deno.test("cropHeatmapFigure() colours each crop by P(t|x) over its image's maximum", () => {
  const p = new Float32Array(289);
  p[1 * 17 + 3] = 0.02; // crop row 1, column 3: the maximum
  p[5 * 17 + 5] = 0.01; // half of it
  const png = decode(cropHeatmapFigure([new Uint8Array(84 * 84)], 84, [p], 17));
  assert.equal(png.channels, 3);
  const pixel = (
    x: number,
    y: number,
  ) => [...png.data.subarray(3 * (y * png.width + x), 3 * (y * png.width + x) + 3)];
  // The heat map starts after the 16-px margin, the 252-px image and the 8-px gap; cells are 15 px.
  const cell = (i: number, j: number) => pixel(16 + 252 + 8 + 15 * j + 7, 16 + 15 * i + 7);
  assert.deepEqual(cell(1, 3), viridis(1));
  assert.deepEqual(cell(5, 5), viridis(0.5));
  assert.deepEqual(cell(0, 0), viridis(0));
  // The most probable crop (corner (4, 12), 20 px) is outlined in the image at 3×.
  assert.deepEqual(pixel(16 + 3 * 12, 16 + 3 * 4 + 30), viridis(1));
  assert.deepEqual(pixel(16 + 3 * 12 + 30, 16 + 3 * 4 + 30), [0, 0, 0]);
});

Deno.test("cropHeatmapFigure() rejects inputs that do not fit together", () => {
  const image = new Uint8Array(84 * 84);
  const p = new Float32Array(289).fill(1 / 289);
  assert.throws(
    () => cropHeatmapFigure([], 84, [], 17),
    /Cannot draw a crop heat-map figure of no images/,
  );
  assert.throws(
    () => cropHeatmapFigure([image, image], 84, [p], 17),
    /Cannot pair 2 images with 1 crop/,
  );
  assert.throws(
    () => cropHeatmapFigure([image], 84, [p], 16),
    /Cannot draw a 16×16 crop grid on 84×84 images/,
  );
  assert.throws(
    () => cropHeatmapFigure([new Uint8Array(784)], 84, [p], 17),
    /image 0 of 784 bytes as 84×84/,
  );
  assert.throws(
    () => cropHeatmapFigure([image], 84, [new Float32Array(9)], 17),
    /P\(t\|x\) 0: 9 values, expected 289/,
  );
  const bad = (t: number, v: number) => Object.assign(new Float32Array(289), { [t]: v });
  assert.throws(
    () => cropHeatmapFigure([image], 84, [bad(3, NaN)], 17),
    /crop 3 has probability NaN/,
  );
  assert.throws(() => cropHeatmapFigure([image], 84, [bad(4, Infinity)], 17), RangeError);
  assert.throws(
    () => cropHeatmapFigure([image], 84, [bad(5, -0.1)], 17),
    /crop 5 has probability -0.1/,
  );
  assert.throws(() => cropHeatmapFigure([image], 84, [p], 17, { columns: 0 }), /columns 0/);
  assert.throws(() => cropHeatmapFigure([image], 84, [p], 17, { scale: 1.5 }), /scale 1.5/);
  assert.throws(() => cropHeatmapFigure([image], 83, [p], 17), RangeError);
});

Deno.test("policyTrainingFigure() outlines the whole-digit crops and colours P's mass at each step", () => {
  const side = 84, grid = cropGrid(side), scale = 2;
  const cell = { row: 28, col: 56, side: 28 };
  const image = new Uint8Array(side * side);
  const inside = wholeDigitCrops(grid, cell)[4]!;
  const columns = [
    { step: 4, probs: [new Float32Array(grid.count).fill(1 / grid.count)] },
    { step: 32, probs: [oneHot(grid.count, inside)] },
  ];
  const png = policyTrainingFigure([image], side, [cell], columns, scale);
  const { width, height, data } = decode(png);
  const pixel = (x: number, y: number) => [...data.subarray(3 * (y * width + x), 3 * (y * width + x) + 3)];
  // Layout (see the function): margin 12, image 168 px, then per step a gap of 8 and a panel.
  const cellPx = Math.round((scale * side) / grid.perSide);
  const panelW = Math.max(cellPx * grid.perSide, 12 * 6 - 1);
  const heatX = (c: number) => 12 + scale * side + 8 + c * (8 + panelW);
  const [i, j] = [Math.floor(inside / grid.perSide), inside % grid.perSide];
  const centre = (
    c: number,
    r: number,
    k: number,
  ) => [heatX(c) + k * cellPx + cellPx / 2, 12 + r * cellPx + cellPx / 2];
  assert.deepEqual(pixel(...(centre(1, i, j) as [number, number])), [...viridis(1)], "the crop holding all the mass");
  assert.deepEqual(pixel(...(centre(1, 0, 0) as [number, number])), [...viridis(0)], "a crop without mass");
  assert.deepEqual(pixel(...(centre(0, 0, 0) as [number, number])), [...viridis(1)], "uniform P: every crop at max");
  // The whole-digit block's outline sits one pixel outside its top-left crop.
  assert.deepEqual(pixel(heatX(1) + (j - 1) * cellPx - 1, 12 + (i - 1) * cellPx + 2), [255, 80, 80]);
  assert.ok(height > 12 + scale * side);
  assert.throws(() => policyTrainingFigure([image], side, [cell], [{ step: 1, probs: [] }]), /Cannot pair/);
  assert.throws(() => policyTrainingFigure([], side, [], columns), /without images/);
});
