/**
 * P(T|x) as heat maps over the crop grid (PNG): the paper's Fig. 3, {@linkcode cropHeatmapFigure},
 * images beside their crop distributions; and, not in the paper, {@linkcode policyTrainingFigure},
 * where P(T|x) of a few images went during training, the whole-digit crops outlined.
 *
 * @module
 */

import { cropGrid, cropOrigin, type Square, wholeDigitCrops } from "../data/crops.ts";
import { halfCellCrops } from "../data/crop_stats.ts";
import { encodePng, viridis } from "./png.ts";
import {
  Canvas,
  checkCount,
  formatProbability,
  GLYPH_H,
  INK,
  MAX_COLOUR,
  OUTLINE,
  textWidth,
  WHITE,
} from "./raster.ts";

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
 * import { cropHeatmapFigure } from "./heatmaps.ts";
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
  probs.forEach((p, k) => checkDistribution(p, grid.count, `P(t|x) ${k}`));

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
    fillHeatmap(canvas, p, perSide, heatX, y0, cellPx);
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
 * {@linkcode cropHeatmapFigure}. On every heat map the block of whole-digit crops is
 * outlined, and its caption gives the step, P's mass on those crops (`whole`) and on the crops at
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
    c.probs.forEach((p, k) => checkDistribution(p, grid.count, `P(t|x) of image ${k} at step ${c.step}`))
  );
  const imagePx = scale * side;
  const cellPx = Math.max(1, Math.round(imagePx / grid.perSide));
  const heatPx = cellPx * grid.perSide;
  const textScale = 1, lineH = GLYPH_H * textScale;
  const margin = 12, gap = 8, labelGap = 4, rowGap = 10;
  const panelW = Math.max(heatPx, textWidth("whole 0.000", textScale));
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
    const whole = wholeDigitCrops(grid, cell);
    const half = halfCellCrops(grid, cell);
    const rows = whole.map((t) => Math.floor(t / grid.perSide)), cols = whole.map((t) => t % grid.perSide);
    columns.forEach((column, c) => {
      const x0 = margin + imagePx + gap + c * (gap + panelW);
      const p = column.probs[k]!;
      fillHeatmap(canvas, p, grid.perSide, x0, y0, cellPx);
      const top = Math.min(...rows), left = Math.min(...cols);
      const blockW = (Math.max(...cols) - left + 1) * cellPx, blockH = (Math.max(...rows) - top + 1) * cellPx;
      canvas.strokeBox(x0 + left * cellPx - 1, y0 + top * cellPx - 1, blockW + 2, blockH + 2, 1, OUTLINE);
      const mass = (ts: readonly number[]) => ts.reduce((a, t) => a + p[t]!, 0).toFixed(3);
      const ty = y0 + heatPx + labelGap;
      canvas.text(`step ${column.step}`, x0, ty, textScale, INK);
      canvas.text(`whole ${mass(whole)}`, x0, ty + lineH + 2, textScale, INK);
      canvas.text(`half ${mass(half)}`, x0, ty + 2 * (lineH + 2), textScale, INK);
    });
  });
  return encodePng({ width, height, channels: 3, data: canvas.data });
}

/** Refuses a distribution of the wrong length or with a negative or non-finite probability. */
function checkDistribution(p: Float32Array, count: number, what: string): void {
  if (p.length !== count) throw new RangeError(`Cannot draw ${what}: ${p.length} values, expected ${count}`);
  p.forEach((v, t) => {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`Cannot draw ${what}: crop ${t} has probability ${v}`);
  });
}

/**
 * Paints P(t|x) as a `perSide × perSide` heat map with its top-left corner at (x, y): cell (i, j)
 * is crop `i · perSide + j`, coloured with viridis scaled to the distribution's own maximum.
 */
function fillHeatmap(canvas: Canvas, p: Float32Array, perSide: number, x: number, y: number, cellPx: number): void {
  const max = p.reduce((a, b) => Math.max(a, b), 0);
  for (let t = 0; t < p.length; t++) {
    const i = Math.floor(t / perSide), j = t % perSide;
    canvas.fillRect(x + j * cellPx, y + i * cellPx, cellPx, cellPx, viridis(max > 0 ? p[t]! / max : 0));
  }
}
