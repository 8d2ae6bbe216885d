import assert from "node:assert/strict";
import { curveEntry } from "../../src/eval/landscape.ts";
import {
  landscapeCurveFigure,
  MAX_SORTED_POINTS,
  scatter2dFigure,
  sortedInnerProductsFigure,
  superimposedRepresentationsFigure,
  trainingCurvesFigure,
} from "../../src/report/charts.ts";
import { oracleCurve, oracleRows } from "./landscape_fixtures.ts";

/** Number of `<path>` and `<line>` elements in every group of class `mark` (one data mark each). */
function countMarks(svg: string, mark: string): number {
  const groups = svg.split(`<g class="${mark} role-mark`).slice(1);
  return groups.reduce(
    // Vega draws rules as lines, the other marks as paths.
    (n, g) => n + (g.slice(0, g.indexOf("</g>")).match(/<(path|line) /g) ?? []).length,
    0,
  );
}

/** Deterministic values in [−1, 1] (a fixed sine sequence, no generator needed). */
function wave(length: number, phase: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(1.7 * i + phase));
}

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

Deno.test("trainingCurvesFigure() draws P's three masses and its entropy per iteration", async () => {
  const points = Array.from({ length: 20 }, (_, i) => ({
    step: i + 1,
    entropy: 5.6 - i / 10,
    concentration: 0.16 + i / 40,
    wholeDigitMass: 0.03 + i / 100,
    halfCellMass: 0.1 + i / 50,
  }));
  const svg = await trainingCurvesFigure(points, "test run", 289);
  assert.match(svg, /^<svg/);
  // The entropy axis names the uniform distribution's ln |T| of the run's grid.
  assert.ok(svg.includes("(uniform 5.67)"));
  assert.ok((await trainingCurvesFigure(points, "original", 9)).includes("(uniform 2.20)"));
  for (const label of ["non-empty crops", "≥ half in the cell", "whole digit", "test run"]) {
    assert.ok(svg.includes(label.replace("≥", "&#8805;")) || svg.includes(label), label);
  }
  assert.equal(countMarks(svg, "mark-line"), 4);
  await assert.rejects(trainingCurvesFigure([], "x", 289), /no iterations/);
  await assert.rejects(trainingCurvesFigure([{ ...points[0]!, entropy: NaN }], "x", 289), /not finite/);
});

Deno.test("landscapeCurveFigure() draws the gap and the window's ends on log axes, λ·ln 9 marked, and says what a log axis cannot show", async () => {
  // The centre crop's lead falls, then reverses (a gap ≤ 0, left out of the log axis).
  const entries = [[32, 0.08], [64, 0.06], [128, 0.03], [256, -0.001]].map(([iteration, gap]) =>
    curveEntry(iteration!, "x", oracleRows(gap!, 0.35), iteration === 32 ? null : 0.004)
  );
  const curve = oracleCurve(entries);
  const svg = await landscapeCurveFigure(curve);
  assert.ok(svg.startsWith("<svg"));
  assert.ok(svg.includes("λ·ln 9 = 0.0055"), "the paper's λ·ln 9 marked");
  assert.ok(svg.includes("1 gap(s) ≤ 0 not drawn"));
  // ± 2 standard errors where known: at 64 and 128 (not 32, which has none, nor the hidden gap).
  assert.ok(svg.includes("bars: ± 2 standard errors"));
  assert.equal(countMarks(svg, "mark-rule"), 2 + 1 + 1, "2 error bars, the λ·ln 9 rule and the paper's λ");
  assert.equal(
    countMarks(svg, "mark-symbol"),
    3 + 4 + 3,
    "3 gaps, 4 window closes, 3 window opens (the last opens at 0)",
  );
  await assert.rejects(landscapeCurveFigure({ ...curve, entries: [] }), /no snapshots/);
});

Deno.test("landscapeCurveFigure() draws the snapshots measured alone on more images beside the curve, each its own series", async () => {
  const curve = oracleCurve([
    curveEntry(32, "x", oracleRows(0.08), 0.004),
    curveEntry(64, "x", oracleRows(0.06), 0.003),
  ]);
  const more = { ...curve, images: 1024, entries: [curveEntry(64, "x", oracleRows(0.065), 0.001)] };
  const svg = await landscapeCurveFigure(curve, [curve, more]);
  for (const label of ["the curve: 256 images, batches of 64", "snapshots alone: 1,024 images, batches of 64"]) {
    assert.equal(svg.split(`>${label}</text>`).length - 1, 1, `one legend entry: ${label}`);
  }
  assert.equal(countMarks(svg, "mark-rule"), 2 + 1 + 1 + 1, "3 error bars, the λ·ln 9 rule and the paper's λ");
  // The curve's own images are not drawn twice; the window is the curve's alone.
  assert.equal(countMarks(svg, "mark-symbol"), 2 + 1 + 2 + 2, "3 gaps, 2 window closes, 2 window opens");
  assert.equal(countMarks(svg, "mark-line"), 2 + 2, "a line per gap series and per window end");
});
