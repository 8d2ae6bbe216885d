/**
 * The paper's figures, drawn from plain arrays: each function returns the file's contents (PNG
 * bytes or an SVG string) and the caller writes it.
 *
 * - Fig. 3, {@linkcode cropHeatmapFigure}: images beside their P(T|x) heat maps (PNG).
 * - Fig. 6, {@linkcode scatter2dFigure}: 2-d head representations coloured by digit (SVG).
 * - Fig. 7, {@linkcode superimposedRepresentationsFigure}: many representations as lines (SVG).
 * - Fig. 8, {@linkcode sortedInnerProductsFigure}: sorted |⟨h(x), h(x′)⟩| over pairs (SVG).
 * - Where P(T|X) goes during training, not in the paper: {@linkcode policyTrainingFigure}, heat
 *   maps of a few images at several steps with the whole-digit crops outlined (PNG), and
 *   {@linkcode trainingCurvesFigure}, P's entropy and its masses per iteration (SVG).
 *
 * Charts with axes are Vega-Lite specs compiled and rendered headlessly by Vega, which needs no
 * canvas or browser: text widths are estimated, so labels are placed well but not exactly.
 * Pictures made of pixels (the heat maps) need no axes and are PNG, with a tiny bitmap font for
 * the few numbers they carry.
 *
 * @module
 */

import * as vega from "npm:vega@6.4.0";
import { compile, type TopLevelSpec } from "npm:vega-lite@6.5.0";
import { cropGrid, cropOrigin, cropOverlap, oracleCrops, type Square } from "../data/crops.ts";
import { encodePng, viridis } from "./png.ts";

// ---------------------------------------------------------------------------------------------
// Fig. 3: crop heat maps (PNG)

/** Layout of {@linkcode cropHeatmapFigure}. */
export interface CropHeatmapOptions {
  /**
   * Image–heat-map pairs per row.
   *
   * @default 4
   */
  readonly columns?: number;
  /**
   * Output pixels per image pixel (84×84 images become 252×252 at 3).
   *
   * @default 3
   */
  readonly scale?: number;
}

/**
 * Fig. 3: each image beside its crop distribution P(T|x) on the crop grid, as a PNG.
 *
 * Heat-map cell (i, j) is crop `t = i · perSide + j`, whose top-left corner is at (4i, 4j), so
 * the heat map reads like a coarse copy of the image: probability sits where the digit is. Each
 * heat map is coloured with viridis scaled to its own maximum (its value is printed underneath;
 * the colour bar on the right reads 0 to max), and the most probable crop is outlined in the
 * image in the colour of the maximum. The outline is left out when P is flat (max = min).
 *
 * @param images Grey images, `side²` bytes each, row-major, 0 = black.
 * @param side Image side in pixels (84 on shifted MNIST, 28 on MNIST).
 * @param probs P(t|x) of each image, `perSide²` values each, crops numbered row-major.
 * @param perSide Crops along one axis of the grid (17 for 84×84 images, 3 for 28×28).
 * @param options Layout.
 * @returns PNG bytes (RGB, white background).
 * @throws {RangeError} If there are no images, the lengths disagree, the grid does not match the
 *   image side, or a probability is negative or not finite.
 *
 * @example
 * ```ts
 * import { cropHeatmapFigure } from "./figures.ts";
 * import assert from "node:assert";
 * const image = new Uint8Array(28 * 28).fill(255);
 * const p = new Float32Array(9).fill(1 / 9);
 * const png = cropHeatmapFigure([image], 28, [p], 3);
 * assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
 * ```
 */
export function cropHeatmapFigure(
  images: readonly Uint8Array[],
  side: number,
  probs: readonly Float32Array[],
  perSide: number,
  options: CropHeatmapOptions = {},
): Uint8Array {
  const { columns = 4, scale = 3 } = options;
  if (images.length === 0) throw new RangeError("Cannot draw a crop heat-map figure of no images");
  if (images.length !== probs.length) {
    throw new RangeError(
      `Cannot pair ${images.length} images with ${probs.length} crop distributions`,
    );
  }
  checkCount("columns", columns);
  checkCount("scale", scale);
  const grid = cropGrid(side);
  if (grid.perSide !== perSide) {
    throw new RangeError(
      `Cannot draw a ${perSide}×${perSide} crop grid on ${side}×${side} images: ` +
        `the grid there is ${grid.perSide}×${grid.perSide}`,
    );
  }
  images.forEach((image, k) => {
    if (image.length !== side * side) {
      throw new RangeError(`Cannot read image ${k} of ${image.length} bytes as ${side}×${side}`);
    }
  });
  probs.forEach((p, k) => {
    if (p.length !== grid.count) {
      throw new RangeError(
        `Cannot read P(t|x) ${k} of ${p.length} values as ${perSide}×${perSide}`,
      );
    }
    p.forEach((v, t) => {
      if (!(Number.isFinite(v) && v >= 0)) {
        throw new RangeError(`Cannot draw P(t|x) ${k}: crop ${t} has probability ${v}`);
      }
    });
  });

  const imagePx = scale * side;
  const cellPx = Math.max(1, Math.round(imagePx / perSide));
  const heatPx = cellPx * perSide;
  const panelPx = Math.max(imagePx, heatPx);
  // Small panels (28×28 at 1×) get the font at 1×, so the label stays under its own pair.
  const textScale = heatPx >= 120 ? 2 : 1;
  const lineH = GLYPH_H * textScale;
  const margin = 16, pairGap = 8, columnGap = 24, labelGap = 6, rowGap = 14;
  const pairW = imagePx + pairGap + heatPx;
  const rowH = panelPx + labelGap + lineH + rowGap;
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const barW = 16, barGap = 24;
  const barLabelW = textWidth("P(t|x)", textScale);
  const width = margin + cols * pairW + (cols - 1) * columnGap + barGap + barW + 6 + barLabelW +
    margin;
  const height = margin + rows * rowH - rowGap + margin;
  const canvas = new Canvas(width, height, WHITE);

  images.forEach((image, k) => {
    const x0 = margin + (k % cols) * (pairW + columnGap);
    const y0 = margin + Math.floor(k / cols) * rowH;
    canvas.blitGrey(image, side, x0, y0, scale);
    const p = probs[k]!;
    let max = 0, min = Infinity, best = 0;
    p.forEach((v, t) => {
      if (v > max) [max, best] = [v, t];
      min = Math.min(min, v);
    });
    const heatX = x0 + imagePx + pairGap;
    for (let t = 0; t < grid.count; t++) {
      const colour = viridis(max > 0 ? p[t]! / max : 0);
      const i = Math.floor(t / perSide), j = t % perSide;
      canvas.fillRect(heatX + j * cellPx, y0 + i * cellPx, cellPx, cellPx, colour);
    }
    if (max > min) {
      const [r, c] = cropOrigin(grid, best);
      const line = Math.max(1, Math.round(scale / 2));
      canvas.strokeRect(x0 + c * scale, y0 + r * scale, grid.cropSide * scale, line, MAX_COLOUR);
    }
    const label = `max ${formatProbability(max)}`;
    const labelX = Math.max(x0, heatX + Math.round((heatPx - textWidth(label, textScale)) / 2));
    canvas.text(label, labelX, y0 + panelPx + labelGap, textScale, INK);
  });

  // Colour bar: one bar for all heat maps, since each is scaled to its own max.
  const barX = width - margin - barLabelW - 6 - barW;
  for (let y = 0; y < heatPx; y++) {
    canvas.fillRect(barX, margin + y, barW, 1, viridis(1 - y / Math.max(1, heatPx - 1)));
  }
  const labelX = barX + barW + 6;
  canvas.text("max", labelX, margin, textScale, INK);
  canvas.text("P(t|x)", labelX, margin + Math.round((heatPx - lineH) / 2), textScale, INK);
  canvas.text("0", labelX, margin + heatPx - lineH, textScale, INK);
  return encodePng({ width, height, channels: 3, data: canvas.data });
}

/** One column of {@linkcode policyTrainingFigure}: P(t|x) of every image after an iteration. */
export interface PolicyColumn {
  readonly step: number;
  /** One distribution per image, in the images' order. */
  readonly probs: readonly Float32Array[];
}

/**
 * Where P(T|x) goes during training, as a PNG: one row per image — the image with its digit's
 * cell outlined, then its heat map after each recorded step, each scaled to its own maximum as in
 * {@linkcode cropHeatmapFigure}. On every heat map the block of whole-digit (oracle) crops is
 * outlined, and its caption gives the step, P's mass on those crops (`oracle`) and on the crops at
 * least half inside the cell (`half`): mass inside the outline is what the paper's Fig. 3 shows,
 * mass outside it is the partial-crop failure.
 *
 * @param images Grey images, `side²` bytes each.
 * @param side Image side in pixels.
 * @param cells The digit's cell in each image.
 * @param columns Distributions at each recorded step.
 * @returns PNG bytes.
 * @throws {RangeError} If there are no images or columns, or the lengths disagree.
 */
export function policyTrainingFigure(
  images: readonly Uint8Array[],
  side: number,
  cells: readonly Square[],
  columns: readonly PolicyColumn[],
  scale = 2,
): Uint8Array {
  const grid = cropGrid(side);
  if (images.length === 0 || columns.length === 0) {
    throw new RangeError("Cannot draw P(T|x) over training without images and steps");
  }
  if (cells.length !== images.length || columns.some((c) => c.probs.length !== images.length)) {
    throw new RangeError(`Cannot pair ${images.length} images with their cells and every step's distributions`);
  }
  columns.forEach((c) =>
    c.probs.forEach((p, k) => {
      if (p.length !== grid.count || p.some((v) => !(Number.isFinite(v) && v >= 0))) {
        throw new RangeError(
          `Cannot draw P(t|x) of image ${k} at step ${c.step}: expected ${grid.count} probabilities`,
        );
      }
    })
  );
  const imagePx = scale * side;
  const cellPx = Math.max(1, Math.round(imagePx / grid.perSide));
  const heatPx = cellPx * grid.perSide;
  const textScale = 1, lineH = GLYPH_H * textScale;
  const margin = 12, gap = 8, labelGap = 4, rowGap = 10;
  const panelW = Math.max(heatPx, textWidth("oracle 0.000", textScale));
  const rowH = Math.max(imagePx, heatPx) + labelGap + 3 * (lineH + 2) + rowGap;
  const width = margin + imagePx + columns.length * (gap + panelW) + margin;
  const height = margin + images.length * rowH - rowGap + margin;
  const canvas = new Canvas(width, height, WHITE);
  const line = Math.max(1, Math.round(scale / 2));
  images.forEach((image, k) => {
    const y0 = margin + k * rowH;
    canvas.blitGrey(image, side, margin, y0, scale);
    const cell = cells[k]!;
    canvas.strokeBox(
      margin + cell.col * scale,
      y0 + cell.row * scale,
      cell.side * scale,
      cell.side * scale,
      line,
      MAX_COLOUR,
    );
    const oracle = oracleCrops(grid, cell);
    const half = halfCellCrops(grid, cell);
    const rows = oracle.map((t) => Math.floor(t / grid.perSide)), cols = oracle.map((t) => t % grid.perSide);
    columns.forEach((column, c) => {
      const x0 = margin + imagePx + gap + c * (gap + panelW);
      const p = column.probs[k]!;
      const max = p.reduce((a, b) => Math.max(a, b), 0);
      for (let t = 0; t < grid.count; t++) {
        const i = Math.floor(t / grid.perSide), j = t % grid.perSide;
        canvas.fillRect(x0 + j * cellPx, y0 + i * cellPx, cellPx, cellPx, viridis(max > 0 ? p[t]! / max : 0));
      }
      const top = Math.min(...rows), left = Math.min(...cols);
      const blockW = (Math.max(...cols) - left + 1) * cellPx, blockH = (Math.max(...rows) - top + 1) * cellPx;
      canvas.strokeBox(x0 + left * cellPx - 1, y0 + top * cellPx - 1, blockW + 2, blockH + 2, 1, OUTLINE);
      const mass = (ts: readonly number[]) => ts.reduce((a, t) => a + p[t]!, 0).toFixed(3);
      const ty = y0 + heatPx + labelGap;
      canvas.text(`step ${column.step}`, x0, ty, textScale, INK);
      canvas.text(`oracle ${mass(oracle)}`, x0, ty + lineH + 2, textScale, INK);
      canvas.text(`half ${mass(half)}`, x0, ty + 2 * (lineH + 2), textScale, INK);
    });
  });
  return encodePng({ width, height, channels: 3, data: canvas.data });
}

/** Crops with at least half their area inside `cell` (as `halfCellMass` counts them). */
function halfCellCrops(grid: ReturnType<typeof cropGrid>, cell: Square): number[] {
  const area = grid.cropSide * grid.cropSide;
  return Array.from({ length: grid.count }, (_, t) => t).filter((t) => cropOverlap(grid, t, cell) >= area / 2);
}

/** One iteration's P statistics, as `log.jsonl` records them. */
export interface CurvePoint {
  readonly step: number;
  readonly entropy: number;
  readonly nonEmptyMass: number;
  readonly oracleMass: number;
  readonly halfCellMass?: number;
}

/**
 * P(T|X) during training, as an SVG: its mass on non-empty crops, on crops at least half inside
 * the digit's cell and on the whole-digit (oracle) crops (left axis), and its entropy in nats
 * (right panel), per iteration on that iteration's batch.
 *
 * @throws {RangeError} If there are no points or a value is not finite.
 */
export async function trainingCurvesFigure(points: readonly CurvePoint[], title: string): Promise<string> {
  if (points.length === 0) throw new RangeError("Cannot draw training curves of no iterations");
  const masses: { step: number; series: string; value: number }[] = [];
  const entropy: { step: number; value: number }[] = [];
  for (const p of points) {
    const add = (series: string, value: number | undefined) => {
      if (value === undefined) return;
      checkFinite(value, `${series} at step ${p.step}`);
      masses.push({ step: p.step, series, value });
    };
    add("non-empty crops", p.nonEmptyMass);
    add("≥ half in the cell", p.halfCellMass);
    add("whole digit (oracle)", p.oracleMass);
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
            scale: { domain: ["non-empty crops", "≥ half in the cell", "whole digit (oracle)"], scheme: "category10" },
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
          y: { field: "value", type: "quantitative", title: "H(T|x), nats (uniform 5.67)", scale: { zero: true } },
        },
      },
    ],
  } as TopLevelSpec);
}

const OUTLINE: Rgb = [255, 80, 80];

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [40, 40, 40];
const MAX_COLOUR: Rgb = viridis(1);

/** An RGB picture to draw on. */
class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, background: Rgb) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < this.data.length; i += 3) this.data.set(background, i);
  }

  fillRect(x: number, y: number, w: number, h: number, colour: Rgb): void {
    const x1 = Math.min(this.width, x + w), y1 = Math.min(this.height, y + h);
    for (let r = Math.max(0, y); r < y1; r++) {
      for (let c = Math.max(0, x); c < x1; c++) this.data.set(colour, 3 * (r * this.width + c));
    }
  }

  /** A square outline of side `size` drawn inside its bounds, `line` pixels thick. */
  strokeRect(x: number, y: number, size: number, line: number, colour: Rgb): void {
    this.strokeBox(x, y, size, size, line, colour);
  }

  /** A `w` × `h` outline drawn inside its bounds, `line` pixels thick. */
  strokeBox(x: number, y: number, w: number, h: number, line: number, colour: Rgb): void {
    this.fillRect(x, y, w, line, colour);
    this.fillRect(x, y + h - line, w, line, colour);
    this.fillRect(x, y, line, h, colour);
    this.fillRect(x + w - line, y, line, h, colour);
  }

  /** Draws a `side²` grey image upscaled by pixel repetition, so no blur is invented. */
  blitGrey(image: Uint8Array, side: number, x: number, y: number, scale: number): void {
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const v = image[r * side + c]!;
        this.fillRect(x + c * scale, y + r * scale, scale, scale, [v, v, v]);
      }
    }
  }

  /** Draws `text` in the bitmap font with its top-left corner at (x, y). */
  text(text: string, x: number, y: number, scale: number, colour: Rgb): void {
    for (const ch of text) {
      const glyph = GLYPHS[ch];
      if (glyph === undefined) throw new RangeError(`Cannot draw character "${ch}": no glyph`);
      glyph.split("/").forEach((row, r) => {
        for (let c = 0; c < GLYPH_W; c++) {
          if (row[c] === "#") this.fillRect(x + c * scale, y + r * scale, scale, scale, colour);
        }
      });
      x += (GLYPH_W + 1) * scale;
    }
  }
}

const GLYPH_W = 5, GLYPH_H = 7;

/** Width in pixels of `text` in the bitmap font (without the trailing space). */
function textWidth(text: string, scale: number): number {
  return ([...text].length * (GLYPH_W + 1) - 1) * scale;
}

/** A 5×7 bitmap font, rows top to bottom, for the few characters the heat-map figure prints. */
const GLYPHS: Readonly<Record<string, string>> = {
  "0": ".###./#...#/#..##/#.#.#/##..#/#...#/.###.",
  "1": "..#../.##../..#../..#../..#../..#../.###.",
  "2": ".###./#...#/....#/...#./..#../.#.../#####",
  "3": "#####/...#./..#../...#./....#/#...#/.###.",
  "4": "...#./..##./.#.#./#..#./#####/...#./...#.",
  "5": "#####/#..../####./....#/....#/#...#/.###.",
  "6": "..##./.#.../#..../####./#...#/#...#/.###.",
  "7": "#####/....#/...#./..#../.#.../.#.../.#...",
  "8": ".###./#...#/#...#/.###./#...#/#...#/.###.",
  "9": ".###./#...#/#...#/.####/....#/...#./.##..",
  ".": "...../...../...../...../...../.##../.##..",
  "-": "...../...../...../.###./...../...../.....",
  " ": "...../...../...../...../...../...../.....",
  "e": "...../...../.###./#...#/#####/#..../.###.",
  "m": "...../...../##.#./#.#.#/#.#.#/#...#/#...#",
  "a": "...../...../.###./....#/.####/#...#/.####",
  "x": "...../...../#...#/.#.#./..#../.#.#./#...#",
  "t": ".#.../.#.../###../.#.../.#.../.#..#/..##.",
  "P": "####./#...#/#...#/####./#..../#..../#....",
  "(": "...#./..#../.#.../.#.../.#.../..#../...#.",
  ")": ".#.../..#../...#./...#./...#./..#../.#...",
  "|": "..#../..#../..#../..#../..#../..#../..#..",
  s: "...../...../.####/#..../.###./....#/####.",
  p: "...../...../####./#...#/####./#..../#....",
  o: "...../...../.###./#...#/#...#/#...#/.###.",
  r: "...../...../#.##./##..#/#..../#..../#....",
  c: "...../...../.###./#..../#..../#...#/.###.",
  l: ".##../..#../..#../..#../..#../..#../.###.",
  h: "#..../#..../#.##./##..#/#...#/#...#/#...#",
  f: "..##./.#..#/.#.../###../.#.../.#.../.#...",
  i: "..#../...../.##../..#../..#../..#../.###.",
  n: "...../...../#.##./##..#/#...#/#...#/#...#",
  ":": "...../.##../.##../...../.##../.##../.....",
};

/** Three significant digits: 0.998, 0.0835, 0.00346 (uniform over 289 crops). */
function formatProbability(p: number): string {
  return p === 0 ? "0" : p.toPrecision(3);
}

function checkCount(name: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(`Cannot use ${name} ${value}: expected a positive integer`);
  }
}

// ---------------------------------------------------------------------------------------------
// Charts with axes (SVG through Vega-Lite)

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
 * import { superimposedRepresentationsFigure } from "./figures.ts";
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
 * import { sortedInnerProductsFigure } from "./figures.ts";
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
    const m = Math.min(sorted.length, MAX_SORTED_POINTS);
    for (let i = 0; i < m; i++) {
      const rank = m === 1 ? 0 : Math.round((i * (sorted.length - 1)) / (m - 1));
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
   * Most points drawn; more are thinned to an evenly strided sample (noted in the subtitle),
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
 * import { scatter2dFigure } from "./figures.ts";
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
  const m = Math.min(n, maxPoints);
  const values = Array.from({ length: m }, (_, k) => {
    const i = Math.floor((k * n) / m);
    return { x: points[2 * i]!, y: points[2 * i + 1]!, digit: labels[i]! };
  });
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
