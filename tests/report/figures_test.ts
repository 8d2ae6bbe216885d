import assert from "node:assert/strict";
import { decode } from "npm:fast-png@8.0.0";
import {
  cropHeatmapFigure,
  MAX_SORTED_POINTS,
  policyTrainingFigure,
  scatter2dFigure,
  sortedInnerProductsFigure,
  superimposedRepresentationsFigure,
  trainingCurvesFigure,
} from "../../src/report/figures.ts";
import { cropGrid, oracleCrops } from "../../src/data/crops.ts";
import { viridis } from "../../src/report/png.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from the IHDR chunk, which always comes first, after the signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Number of `<path>` elements in every group of class `mark` (one data mark each). */
function countMarks(svg: string, mark: string): number {
  const groups = svg.split(`<g class="${mark} role-mark`).slice(1);
  return groups.reduce(
    (n, g) => n + (g.slice(0, g.indexOf("</g>")).match(/<path /g) ?? []).length,
    0,
  );
}

function oneHot(length: number, t: number): Float32Array {
  const p = new Float32Array(length);
  p[t] = 1;
  return p;
}

/** Deterministic values in [−1, 1] (a fixed sine sequence, no generator needed). */
function wave(length: number, phase: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(1.7 * i + phase));
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
    /9 values as 17×17/,
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

Deno.test("superimposedRepresentationsFigure() draws one line per representation", async () => {
  const reps = Array.from({ length: 200 }, (_, k) => wave(50, k));
  const svg = await superimposedRepresentationsFigure(reps, "CRL-TAC", { yDomain: [-1, 1] });
  assert.ok(svg.startsWith("<svg"));
  assert.ok(svg.includes(">CRL-TAC<"));
  assert.ok(svg.includes(">dimension<") && svg.includes(">value<"));
  assert.ok(svg.includes("200 representations of dimension 50"));
  assert.equal(countMarks(svg, "mark-line"), 200);
  assert.ok(svg.length < 300_000, `SVG of ${svg.length} characters`);
});

Deno.test("superimposedRepresentationsFigure() rejects bad inputs", async () => {
  const f = superimposedRepresentationsFigure;
  await assert.rejects(async () => await f([], "x"), /none given/);
  await assert.rejects(async () => await f([new Float32Array(0)], "x"), /dimension 0/);
  await assert.rejects(
    async () => await f([wave(50, 0), wave(49, 1)], "x"),
    /representation 1 of dimension 49 on 50/,
  );
  await assert.rejects(
    async () => await f([Float32Array.of(0, NaN)], "x"),
    /representation 0, dimension 1: value NaN is not finite/,
  );
  await assert.rejects(
    async () => await f(Array(201).fill(wave(5, 0)), "x"),
    /201 representations/,
  );
  await assert.rejects(async () => await f([wave(5, 0)], "x", { yDomain: [1, -1] }), /\[1, -1\]/);
});

Deno.test("sortedInnerProductsFigure() draws each series sorted, thinned to its point cap", async () => {
  const n = 5000;
  const crl = Array.from({ length: n }, (_, i) => (i % 97) / 970);
  const simclr = Array.from({ length: n }, (_, i) => 1 - (i % 89) / 8900);
  const svg = await sortedInnerProductsFigure([
    { label: "CRL-TAC", values: crl },
    { label: "SimCLR", values: simclr },
  ]);
  assert.ok(svg.startsWith("<svg"));
  assert.ok(svg.includes(">CRL-TAC<") && svg.includes(">SimCLR<"));
  assert.ok(svg.includes(">pair rank (largest first)<"));
  assert.ok(svg.includes(">|⟨h(x), h(x′)⟩|<"));
  assert.equal(countMarks(svg, "mark-line"), 2);
  // Each line has MAX_SORTED_POINTS vertices: one move and MAX_SORTED_POINTS − 1 line segments.
  const lines = svg.split('<g class="mark-line role-mark').slice(1);
  for (const line of lines) {
    const d = line.match(/ d="([^"]*)"/)?.[1] ?? "";
    assert.equal((d.match(/[ML]/g) ?? []).length, MAX_SORTED_POINTS);
  }
  assert.ok(svg.length < 100_000, `SVG of ${svg.length} characters`);
});

Deno.test("sortedInnerProductsFigure() rejects bad inputs", async () => {
  const f = sortedInnerProductsFigure;
  await assert.rejects(async () => await f([]), /no series given/);
  await assert.rejects(async () => await f([{ label: "A", values: [] }]), /"A": it has no values/);
  await assert.rejects(
    async () => await f([{ label: "A", values: [0.5] }, { label: "A", values: [0.5] }]),
    /"A" twice/,
  );
  await assert.rejects(async () => await f([{ label: "A", values: [0.5, NaN] }]), /value 1 is NaN/);
  await assert.rejects(async () => await f([{ label: "A", values: [1.5] }]), /value 0 is 1.5/);
  await assert.rejects(async () => await f([{ label: "A", values: [-0.2] }]), RangeError);
});

Deno.test("scatter2dFigure() draws one point per representation, coloured by digit", async (t) => {
  const n = 300;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const points = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const angle = (2 * Math.PI * labels[i]!) / 10 + 0.01 * i;
    points.set([Math.cos(angle), Math.sin(angle)], 2 * i);
  }
  await t.step("all points", async () => {
    const svg = await scatter2dFigure(points, labels, "CRL-TAC");
    assert.ok(svg.startsWith("<svg"));
    assert.ok(svg.includes(">h₁(x)<") && svg.includes(">h₂(x)<") && svg.includes(">digit<"));
    assert.ok(svg.includes("300 points"));
    assert.equal(countMarks(svg, "mark-symbol"), n);
    // Every digit in the legend, in the category10 colour of its class.
    for (let d = 0; d < 10; d++) assert.ok(svg.includes(`>${d}</text>`), `legend entry ${d}`);
    assert.ok(svg.includes('fill="#1f77b4"') && svg.includes('fill="#17becf"'));
  });
  await t.step("thinned to maxPoints", async () => {
    const svg = await scatter2dFigure(points, labels, "CRL-TAC", { maxPoints: 100 });
    assert.equal(countMarks(svg, "mark-symbol"), 100);
    assert.ok(svg.includes("100 of 300 points"));
  });
});

Deno.test("scatter2dFigure() rejects bad inputs", async () => {
  const f = scatter2dFigure;
  await assert.rejects(
    async () => await f(new Float32Array(0), new Uint8Array(0), "x"),
    /no points/,
  );
  await assert.rejects(
    async () => await f(new Float32Array(6), new Uint8Array(2), "x"),
    /Cannot pair 3 2-d points with 2 labels/,
  );
  await assert.rejects(
    async () => await f(Float32Array.of(0, 0, Infinity, 0), new Uint8Array(2), "x"),
    /point 1: value Infinity is not finite/,
  );
  await assert.rejects(
    async () => await f(new Float32Array(4), Uint8Array.of(3, 10), "x"),
    /point 1: label 10 is not a digit/,
  );
  await assert.rejects(
    async () => await f(new Float32Array(4), new Uint8Array(2), "x", { maxPoints: 0 }),
    /maxPoints 0/,
  );
});

Deno.test("policyTrainingFigure() outlines the whole-digit crops and colours P's mass at each step", () => {
  const side = 84, grid = cropGrid(side), scale = 2;
  const cell = { row: 28, col: 56, side: 28 };
  const image = new Uint8Array(side * side);
  const inside = oracleCrops(grid, cell)[4]!;
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
  // The oracle block's outline sits one pixel outside its top-left crop.
  assert.deepEqual(pixel(heatX(1) + (j - 1) * cellPx - 1, 12 + (i - 1) * cellPx + 2), [255, 80, 80]);
  assert.ok(height > 12 + scale * side);
  assert.throws(() => policyTrainingFigure([image], side, [cell], [{ step: 1, probs: [] }]), /Cannot pair/);
  assert.throws(() => policyTrainingFigure([], side, [], columns), /without images/);
});

Deno.test("trainingCurvesFigure() draws P's three masses and its entropy per iteration", async () => {
  const points = Array.from({ length: 20 }, (_, i) => ({
    step: i + 1,
    entropy: 5.6 - i / 10,
    nonEmptyMass: 0.16 + i / 40,
    oracleMass: 0.03 + i / 100,
    halfCellMass: 0.1 + i / 50,
  }));
  const svg = await trainingCurvesFigure(points, "test run");
  assert.match(svg, /^<svg/);
  for (const label of ["non-empty crops", "≥ half in the cell", "whole digit (oracle)", "test run"]) {
    assert.ok(svg.includes(label.replace("≥", "&#8805;")) || svg.includes(label), label);
  }
  assert.equal(countMarks(svg, "mark-line"), 4);
  await assert.rejects(trainingCurvesFigure([], "x"), /no iterations/);
  await assert.rejects(trainingCurvesFigure([{ ...points[0]!, entropy: NaN }], "x"), /not finite/);
});
