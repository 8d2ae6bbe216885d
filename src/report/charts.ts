/**
 * The figures with axes, as SVG: Vega-Lite specs compiled and rendered headlessly by Vega, which
 * needs no canvas or browser (text widths are estimated, so labels are placed well but not
 * exactly).
 *
 * - Fig. 6, {@linkcode scatter2dFigure}: 2-d head representations coloured by digit.
 * - Fig. 7, {@linkcode superimposedRepresentationsFigure}: many representations as lines.
 * - Fig. 8, {@linkcode sortedInnerProductsFigure}: sorted |⟨h(x), h(x′)⟩| over pairs.
 * - Not in the paper: {@linkcode trainingCurvesFigure}, P's entropy and masses per iteration;
 *   {@linkcode landscapeCurveFigure}, objective (2)'s whole-digit gap along training.
 *
 * @module
 */

import * as vega from "npm:vega@6.4.0";
import { compile, type TopLevelSpec } from "npm:vega-lite@6.5.0";
import type { LandscapeCurve } from "../eval/landscape.ts";
import { evenlySpaced } from "../eval/metrics.ts";
import { checkCount } from "./raster.ts";

/** One iteration's P statistics, as `log.jsonl` records them. */
export interface CurvePoint {
  readonly step: number;
  readonly entropy: number;
  readonly concentration: number;
  readonly wholeDigitMass: number;
  readonly halfCellMass: number;
}

/**
 * P(T|X) during training, as an SVG: its mass on non-empty crops, on crops at least half inside
 * the digit's cell and on the whole-digit crops (left axis), and its entropy in nats
 * (right panel, with the uniform distribution's ln |T| named on its axis), per iteration on that
 * iteration's batch.
 *
 * @param cropCount |T| of the run's crop grid (289 on shifted MNIST, 9 on MNIST).
 * @throws {RangeError} If there are no points, a value is not finite or `cropCount` is not a
 *   positive integer.
 */
export async function trainingCurvesFigure(
  points: readonly CurvePoint[],
  title: string,
  cropCount: number,
): Promise<string> {
  if (points.length === 0) throw new RangeError("Cannot draw training curves of no iterations");
  checkCount("cropCount", cropCount);
  const masses: { step: number; series: string; value: number }[] = [];
  const entropy: { step: number; value: number }[] = [];
  for (const p of points) {
    const add = (series: string, value: number) => {
      checkFinite(value, `${series} at step ${p.step}`);
      masses.push({ step: p.step, series, value });
    };
    add("non-empty crops", p.concentration);
    add("≥ half in the cell", p.halfCellMass);
    add("whole digit", p.wholeDigitMass);
    checkFinite(p.entropy, `entropy at step ${p.step}`);
    entropy.push({ step: p.step, value: p.entropy });
  }
  const x = { field: "step", type: "quantitative", title: "iteration" } as const;
  return await renderSvg({
    ...CHART_BASE,
    title,
    hconcat: [
      {
        width: 360,
        height: 200,
        data: { values: masses },
        mark: { type: "line", strokeWidth: 1.2, aria: false },
        encoding: {
          x,
          y: { field: "value", type: "quantitative", title: "P(T|x) mass", scale: { domain: [0, 1] } },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { domain: ["non-empty crops", "≥ half in the cell", "whole digit"], scheme: "category10" },
            legend: { orient: "bottom" },
          },
        },
      },
      {
        width: 240,
        height: 200,
        data: { values: entropy },
        mark: { type: "line", strokeWidth: 1.2, color: "#444", aria: false },
        encoding: {
          x,
          y: {
            field: "value",
            type: "quantitative",
            title: `H(T|x), nats (uniform ${Math.log(cropCount).toFixed(2)})`,
            scale: { zero: true },
          },
        },
      },
    ],
  } as TopLevelSpec);
}

/**
 * Objective (2) along training, as an SVG, on log-log axes against iterations: left, the gap
 * I(centre crop) − I(9 whole-digit crops) with λ·ln 9 at the run's λ marked (below it the
 * whole-digit P beats the centre crop), and beside the curve's gaps those of `more`: the same
 * run's snapshots measured on other images (`landscape --at`), one series each; right, the two
 * ends of the curve's λ window in which the whole-digit crops beat both the centre crop and
 * uniform, with the run's λ marked. Values that a log axis cannot show (a gap ≤ 0, a window that
 * starts at 0) are left out, and the figure says how many.
 *
 * @throws {RangeError} If the curve has no entries or a value is not finite.
 */
export async function landscapeCurveFigure(
  curve: LandscapeCurve,
  more: readonly LandscapeCurve[] = [],
): Promise<string> {
  if (curve.entries.length === 0) throw new RangeError("Cannot draw a landscape curve of no snapshots");
  const gaps: { iteration: number; value: number; series: string }[] = [];
  const bars: { iteration: number; low: number; high: number; series: string }[] = [];
  const ends: { iteration: number; series: string; value: number }[] = [];
  let hidden = 0;
  const curves = [curve, ...more.filter((c) => c.images !== curve.images || c.batch !== curve.batch)];
  const names = curves.map((c, i) =>
    `${i === 0 ? "the curve" : "snapshots alone"}: ${c.images.toLocaleString("en-US")} images, batches of ${c.batch}`
  );
  for (const [i, c] of curves.entries()) {
    for (const e of c.entries) {
      checkFinite(e.gap, `the gap at iteration ${e.iteration}`);
      if (e.gap > 0) gaps.push({ iteration: e.iteration, value: e.gap, series: names[i]! });
      else hidden++;
      if (e.gap > 0 && typeof e.gapStdErr === "number") {
        checkFinite(e.gapStdErr, `the gap's standard error at iteration ${e.iteration}`);
        // A log axis has no 0: a bar reaching below it starts at a tenth of the gap.
        const low = e.gap - 2 * e.gapStdErr;
        bars.push({
          iteration: e.iteration,
          low: low > 0 ? low : e.gap / 10,
          high: e.gap + 2 * e.gapStdErr,
          series: names[i]!,
        });
      }
    }
  }
  for (const e of curve.entries) {
    for (const [series, value] of [["window opens", e.window?.from], ["window closes", e.window?.to]] as const) {
      if (value === undefined || value === null) continue;
      checkFinite(value, `the window's end at iteration ${e.iteration}`);
      if (value > 0) ends.push({ iteration: e.iteration, series, value });
    }
  }
  const x = { field: "iteration", type: "quantitative", title: "iteration", scale: { type: "log" } } as const;
  // On the line's own log axis (one y scale per panel), so that the axis reaches down to the mark.
  const y = { field: "value", type: "quantitative", scale: { type: "log" } } as const;
  const rule = (value: number, label: string) => ({
    data: { values: [{ value, label }] },
    layer: [
      { mark: { type: "rule", strokeDash: [4, 3], color: "#c33" }, encoding: { y } },
      {
        mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#c33", fontSize: 10 },
        encoding: { y, x: { value: 0 }, text: { field: "label" } },
      },
    ],
  });
  const lnNine = Math.log(9);
  const gapColor = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: names, range: ["#444", "#9467bd", "#8c564b", "#e377c2"] },
    legend: { orient: "bottom", direction: "vertical", labelLimit: 400 },
  } as const;
  return await renderSvg({
    ...CHART_BASE,
    title: `Objective (2) along training: ${curve.method}, ${curve.data}, seed ${curve.seed}` +
      (bars.length ? " (bars: ± 2 standard errors)" : "") + (hidden ? `; ${hidden} gap(s) ≤ 0 not drawn` : ""),
    // The gaps' series and the window's ends each have their own colours and legend.
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    hconcat: [
      {
        width: 300,
        height: 220,
        layer: [
          {
            data: { values: gaps },
            mark: { type: "line", point: true, strokeWidth: 1.2 },
            encoding: {
              x,
              y: {
                field: "value",
                type: "quantitative",
                title: "I(centre) − I(whole digits), nats",
                scale: { type: "log" },
              },
              color: gapColor,
            },
          },
          {
            data: { values: bars },
            mark: { type: "rule" },
            encoding: {
              x,
              y: { field: "low", type: "quantitative", scale: { type: "log" } },
              y2: { field: "high" },
              color: gapColor,
            },
          },
          rule(curve.lambda * lnNine, `λ·ln 9 = ${(curve.lambda * lnNine).toFixed(4)}`),
        ],
      },
      {
        width: 300,
        height: 220,
        layer: [
          {
            data: { values: ends },
            mark: { type: "line", point: true, strokeWidth: 1.2 },
            encoding: {
              x,
              y: { ...y, title: "λ" },
              color: {
                field: "series",
                type: "nominal",
                title: null,
                scale: { domain: ["window opens", "window closes"], scheme: "category10" },
                legend: { orient: "bottom" },
              },
            },
          },
          rule(curve.lambda, `the run's λ = ${curve.lambda}`),
        ],
      },
    ],
  } as TopLevelSpec);
}

/** Most lines {@linkcode superimposedRepresentationsFigure} draws: the paper's figure shows 200. */
export const MAX_SUPERIMPOSED = 200;

/** Most points per series {@linkcode sortedInnerProductsFigure} draws. */
export const MAX_SORTED_POINTS = 1000;

/** Options of {@linkcode superimposedRepresentationsFigure}. */
export interface SuperimposedOptions {
  /**
   * Range of the value axis; values outside it are clipped. Give two charts the same range (e.g.
   * `[-1, 1]` for unit vectors) to compare them side by side.
   *
   * @default the data's range
   */
  readonly yDomain?: readonly [number, number];
}

/**
 * Fig. 7: representations superimposed as lines over their dimensions, as an SVG. Under a
 * trainable P(T|X) the lines differ per image; under a uniform P they collapse onto one curve.
 *
 * @param reps The representations (up to {@linkcode MAX_SUPERIMPOSED}), all of one dimension.
 * @param title Chart title (e.g. the method).
 * @param options Value range.
 * @returns SVG text.
 * @throws {RangeError} If there are no representations or too many, their dimensions differ, a
 *   value is not finite, or `yDomain` is not an increasing pair of finite numbers.
 *
 * @example
 * ```ts
 * import { superimposedRepresentationsFigure } from "./charts.ts";
 * import assert from "node:assert";
 * const svg = await superimposedRepresentationsFigure([new Float32Array([0.6, 0.8])], "CRL-TAC");
 * assert.ok(svg.startsWith("<svg"));
 * ```
 */
export async function superimposedRepresentationsFigure(
  reps: readonly Float32Array[],
  title: string,
  options: SuperimposedOptions = {},
): Promise<string> {
  const { yDomain } = options;
  if (yDomain !== undefined && !(yDomain[0] < yDomain[1] && yDomain.every(Number.isFinite))) {
    throw new RangeError(`Cannot use the value range [${yDomain.join(", ")}]: expected low < high`);
  }
  if (reps.length === 0) {
    throw new RangeError("Cannot draw superimposed representations: none given");
  }
  if (reps.length > MAX_SUPERIMPOSED) {
    throw new RangeError(
      `Cannot superimpose ${reps.length} representations: at most ${MAX_SUPERIMPOSED} keep the ` +
        "lines readable and the SVG small; pass a sample",
    );
  }
  const d = reps[0]!.length;
  if (d === 0) throw new RangeError("Cannot draw representations of dimension 0");
  const values: { rep: number; dim: number; value: number }[] = [];
  reps.forEach((rep, r) => {
    if (rep.length !== d) {
      throw new RangeError(
        `Cannot superimpose representation ${r} of dimension ${rep.length} on ${d}`,
      );
    }
    rep.forEach((value, dim) => {
      checkFinite(value, `representation ${r}, dimension ${dim}`);
      values.push({ rep: r, dim, value });
    });
  });
  return await renderSvg({
    ...CHART_BASE,
    width: 520,
    height: 260,
    title: { text: title, subtitle: `${reps.length} representations of dimension ${d}` },
    data: { values },
    // Thin, faint lines: where many coincide the curve turns solid, which is the point of the
    // figure under uniform P.
    mark: {
      type: "line",
      strokeWidth: 0.8,
      opacity: 0.3,
      color: "#1f77b4",
      clip: yDomain !== undefined,
      aria: false,
    },
    encoding: {
      x: {
        field: "dim",
        type: "quantitative",
        title: "dimension",
        scale: { domain: [0, Math.max(1, d - 1)], nice: false, zero: false },
        axis: { tickMinStep: 1 },
      },
      y: {
        field: "value",
        type: "quantitative",
        title: "value",
        ...(yDomain === undefined ? {} : { scale: { domain: [...yDomain], nice: false } }),
      },
      detail: { field: "rep", type: "nominal" },
    },
  });
}

/** One curve of {@linkcode sortedInnerProductsFigure}. */
export interface InnerProductSeries {
  /** Legend entry, e.g. "CRL-TAC" or "SimCLR". */
  readonly label: string;
  /** |⟨h(x), h(x′)⟩| over random pairs, each in [0, 1], in any order. */
  readonly values: readonly number[];
}

/** Options of {@linkcode sortedInnerProductsFigure}. */
export interface SortedInnerProductsOptions {
  /**
   * Chart title.
   *
   * @default "Sorted |⟨h(x), h(x′)⟩| over random pairs"
   */
  readonly title?: string;
}

/**
 * Fig. 8: each series of absolute inner products sorted in descending order, as an SVG line
 * chart over the pair rank. Series longer than {@linkcode MAX_SORTED_POINTS} are sampled at
 * evenly spaced ranks (first and last included), which keeps a monotone curve's shape.
 *
 * @param series The curves, in legend order; labels must be distinct.
 * @param options Title.
 * @returns SVG text.
 * @throws {RangeError} If there are no series, a series is empty or its label repeats, or a value
 *   is not finite or outside [0, 1].
 *
 * @example
 * ```ts
 * import { sortedInnerProductsFigure } from "./charts.ts";
 * import assert from "node:assert";
 * const svg = await sortedInnerProductsFigure([{ label: "SimCLR", values: [0.9, 1, 0.95] }]);
 * assert.ok(svg.includes("SimCLR"));
 * ```
 */
export async function sortedInnerProductsFigure(
  series: readonly InnerProductSeries[],
  options: SortedInnerProductsOptions = {},
): Promise<string> {
  const { title = "Sorted |⟨h(x), h(x′)⟩| over random pairs" } = options;
  if (series.length === 0) {
    throw new RangeError("Cannot draw sorted inner products: no series given");
  }
  const labels = series.map((s) => s.label);
  const values: { series: string; rank: number; value: number }[] = [];
  series.forEach(({ label, values: raw }, k) => {
    if (labels.indexOf(label) !== k) {
      throw new RangeError(`Cannot draw series "${label}" twice: labels must be distinct`);
    }
    if (raw.length === 0) throw new RangeError(`Cannot draw series "${label}": it has no values`);
    raw.forEach((v, i) => {
      // A little over 1 is float rounding in the norm of unit vectors, not a bad value.
      if (!(Number.isFinite(v) && v >= 0 && v <= 1 + 1e-3)) {
        throw new RangeError(
          `Cannot draw series "${label}": value ${i} is ${v}, expected |⟨h(x), h(x′)⟩| in [0, 1]`,
        );
      }
    });
    const sorted = [...raw].sort((a, b) => b - a);
    for (const rank of evenlySpaced(sorted.length, MAX_SORTED_POINTS)) {
      values.push({ series: label, rank, value: Math.min(1, sorted[rank]!) });
    }
  });
  return await renderSvg({
    ...CHART_BASE,
    width: 480,
    height: 260,
    title,
    data: { values },
    mark: { type: "line", strokeWidth: 1.5, aria: false },
    encoding: {
      x: {
        field: "rank",
        type: "quantitative",
        title: "pair rank (largest first)",
        scale: { nice: false },
      },
      y: {
        field: "value",
        type: "quantitative",
        title: "|⟨h(x), h(x′)⟩|",
        scale: { domain: [0, 1] },
      },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: labels, scheme: "category10" },
        legend: { orient: "right" },
      },
    },
  });
}

/** Options of {@linkcode scatter2dFigure}. */
export interface Scatter2dOptions {
  /**
   * Most points drawn; more are thinned to evenly spaced ones (noted in the subtitle),
   * since each point is one SVG element.
   *
   * @default 1500
   */
  readonly maxPoints?: number;
}

/**
 * Fig. 6: 2-d head representations as a scatter coloured by digit class, as an SVG. Both axes
 * share one symmetric range around 0 so that the unit circle (where normalised 2-d
 * representations lie) stays round, and the ten colours are fixed per digit so that charts of
 * different runs compare.
 *
 * @param points `n × 2` values, row-major.
 * @param labels Digit class (0–9) of each point.
 * @param title Chart title (e.g. the method).
 * @param options Thinning.
 * @returns SVG text.
 * @throws {RangeError} If there are no points, the lengths disagree, a value is not finite or a
 *   label is not a digit.
 *
 * @example
 * ```ts
 * import { scatter2dFigure } from "./charts.ts";
 * import assert from "node:assert";
 * const svg = await scatter2dFigure(new Float32Array([1, 0, 0, 1]), new Uint8Array([3, 7]), "2-d");
 * assert.ok(svg.includes("digit"));
 * ```
 */
export async function scatter2dFigure(
  points: Float32Array,
  labels: Uint8Array,
  title: string,
  options: Scatter2dOptions = {},
): Promise<string> {
  const { maxPoints = 1500 } = options;
  checkCount("maxPoints", maxPoints);
  const n = labels.length;
  if (n === 0) throw new RangeError("Cannot draw a scatter of no points");
  if (points.length !== 2 * n) {
    throw new RangeError(`Cannot pair ${points.length / 2} 2-d points with ${n} labels`);
  }
  let extent = 0;
  points.forEach((v, i) => {
    checkFinite(v, `point ${Math.floor(i / 2)}`);
    extent = Math.max(extent, Math.abs(v));
  });
  labels.forEach((label, i) => {
    if (label > 9) throw new RangeError(`Cannot colour point ${i}: label ${label} is not a digit`);
  });
  const kept = evenlySpaced(n, maxPoints);
  const m = kept.length;
  const values = kept.map((i) => ({ x: points[2 * i]!, y: points[2 * i + 1]!, digit: labels[i]! }));
  const limit = extent > 0 ? extent * 1.05 : 1;
  const axis = (name: "x" | "y", label: string) => ({
    field: name,
    type: "quantitative" as const,
    title: label,
    scale: { domain: [-limit, limit], nice: false },
    // The same ticks on both axes; Vega would otherwise thin the x labels alone.
    axis: { tickCount: 5 },
  });
  return await renderSvg({
    ...CHART_BASE,
    width: 340,
    height: 340,
    title: { text: title, subtitle: m < n ? `${m} of ${n} points` : `${n} points` },
    data: { values },
    mark: { type: "circle", size: 14, opacity: 0.6, aria: false },
    encoding: {
      x: axis("x", "h₁(x)"),
      y: axis("y", "h₂(x)"),
      color: {
        field: "digit",
        type: "nominal",
        title: "digit",
        scale: { domain: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], scheme: "category10" },
      },
    },
  });
}

/** Settings shared by every chart. */
const CHART_BASE = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  background: "white",
  config: {
    font: "sans-serif",
    title: { fontSize: 14, subtitleFontSize: 11, anchor: "start" },
    axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
    legend: { labelFontSize: 11, titleFontSize: 12 },
  },
} as const;

/** Compiles a Vega-Lite spec and renders it to SVG without a browser or canvas. */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return roundTranslations(await view.toSVG());
  } finally {
    view.finalize();
  }
}

function checkFinite(value: number, what: string): void {
  if (!Number.isFinite(value)) {
    throw new RangeError(`Cannot draw ${what}: value ${value} is not finite`);
  }
}

/**
 * Rounds the offsets in `translate(x,y)` to 0.01 px. Vega writes them at full double precision,
 * which for a scatter (one translated symbol per point) doubles the SVG's size for no visible gain.
 */
function roundTranslations(svg: string): string {
  return svg.replace(
    /translate\(([-\d.e]+),([-\d.e]+)\)/g,
    (_, x: string, y: string) => `translate(${round2(x)},${round2(y)})`,
  );
}

function round2(value: string): number {
  return Math.round(Number(value) * 100) / 100;
}
