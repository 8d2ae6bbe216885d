/**
 * The augmentation set T: square crops on a regular grid. On shifted MNIST (84×84) there are
 * 17×17 = 289 crops of 20×20 at stride 4; on original MNIST (28×28) the same crop gives 3×3 = 9.
 * Crops are numbered row-major: crop `t` has its top-left corner at
 * `(stride · ⌊t / perSide⌋, stride · (t mod perSide))`.
 *
 * @module
 */

/** A grid of square crops over a square image. */
export interface CropGrid {
  /** Side of the image, in pixels. */
  readonly imageSide: number;
  /** Side of each crop, in pixels. */
  readonly cropSide: number;
  /** Distance between neighbouring crop corners, in pixels. */
  readonly stride: number;
  /** Crops along one axis. */
  readonly perSide: number;
  /** All crops: `perSide²`. */
  readonly count: number;
}

/** An axis-aligned square region of an image (a digit's cell), in pixels. */
export interface Square {
  /** Top edge: the row of its first pixel. */
  readonly row: number;
  /** Left edge: the column of its first pixel. */
  readonly col: number;
  /** Side length in pixels. */
  readonly side: number;
}

/** Side of every crop in the paper. */
export const CROP_SIDE = 20;
/** Stride of the crop grid in the paper. */
export const CROP_STRIDE = 4;

/**
 * The crop grid for an image of side `imageSide`.
 *
 * @param imageSide Image side in pixels (84 for shifted MNIST, 28 for MNIST).
 * @param cropSide Crop side in pixels.
 * @param stride Step between crop corners in pixels.
 * @throws {RangeError} If the crops do not tile the image exactly from edge to edge.
 *
 * @example
 * ```ts
 * import { cropGrid } from "./crops.ts";
 * import assert from "node:assert";
 * assert.equal(cropGrid(84).count, 289);
 * assert.equal(cropGrid(28).count, 9);
 * ```
 */
export function cropGrid(imageSide: number, cropSide = CROP_SIDE, stride = CROP_STRIDE): CropGrid {
  const span = imageSide - cropSide;
  if (!(cropSide > 0 && stride > 0 && span >= 0 && span % stride === 0)) {
    throw new RangeError(
      `Cannot lay ${cropSide}×${cropSide} crops at stride ${stride} edge to edge on a ` +
        `${imageSide}×${imageSide} image`,
    );
  }
  const perSide = span / stride + 1;
  return { imageSide, cropSide, stride, perSide, count: perSide * perSide };
}

/** Top-left corner `[row, col]` of crop `t`. */
export function cropOrigin(grid: CropGrid, t: number): [number, number] {
  if (!Number.isInteger(t) || t < 0 || t >= grid.count) {
    throw new RangeError(`Cannot place crop ${t}: the grid has crops 0..${grid.count - 1}`);
  }
  return [grid.stride * Math.floor(t / grid.perSide), grid.stride * (t % grid.perSide)];
}

/**
 * Marks the crops that hold no non-zero pixel of `image`.
 *
 * @param image Pixels, `imageSide²`, row-major.
 * @returns One byte per crop: 1 if the crop is empty, else 0.
 *
 * @example
 * ```ts
 * import { cropGrid, emptyCrops } from "./crops.ts";
 * import assert from "node:assert";
 * const grid = cropGrid(28);
 * const image = new Uint8Array(28 * 28);
 * image[0] = 255; // top-left pixel: only crop 0 covers it
 * assert.deepEqual([...emptyCrops(image, grid)], [0, 1, 1, 1, 1, 1, 1, 1, 1]);
 * ```
 */
export function emptyCrops(image: ArrayLike<number>, grid: CropGrid): Uint8Array {
  const side = grid.imageSide;
  if (image.length !== side * side) {
    throw new RangeError(`Cannot scan an image of ${image.length} pixels as ${side}×${side}`);
  }
  // Summed-area table of the non-zero indicator: each crop is then four lookups.
  const w = side + 1;
  const sat = new Int32Array(w * w);
  for (let r = 0; r < side; r++) {
    let rowSum = 0;
    for (let c = 0; c < side; c++) {
      rowSum += image[r * side + c] !== 0 ? 1 : 0;
      sat[(r + 1) * w + c + 1] = sat[r * w + c + 1]! + rowSum;
    }
  }
  const out = new Uint8Array(grid.count);
  const k = grid.cropSide;
  for (let t = 0; t < grid.count; t++) {
    const [r, c] = cropOrigin(grid, t);
    const inside = sat[(r + k) * w + c + k]! - sat[r * w + c + k]! - sat[(r + k) * w + c]! +
      sat[r * w + c]!;
    out[t] = inside === 0 ? 1 : 0;
  }
  return out;
}

/** Pixels shared by crop `t` and the square `cell`. */
export function cropOverlap(grid: CropGrid, t: number, cell: Square): number {
  const [r, c] = cropOrigin(grid, t);
  const span = (a: number, b: number) => Math.max(0, Math.min(a + grid.cropSide, b + cell.side) - Math.max(a, b));
  return span(r, cell.row) * span(c, cell.col);
}

/**
 * The whole-digit crops: those with the largest overlap with the digit's cell. A 20×20 crop fits
 * inside a 28×28 cell at 3×3 positions of the stride-4 grid, so there are 9 on both datasets.
 *
 * @param grid The crop grid.
 * @param cell Where the digit was pasted.
 * @returns Crop indices, ascending.
 *
 * @example
 * ```ts
 * import { cropGrid, wholeDigitCrops } from "./crops.ts";
 * import assert from "node:assert";
 * // A digit in the centre cell of shifted MNIST: crops (7..9) × (7..9) of the 17×17 grid.
 * const t = wholeDigitCrops(cropGrid(84), { row: 28, col: 28, side: 28 });
 * assert.deepEqual(t, [126, 127, 128, 143, 144, 145, 160, 161, 162]);
 * ```
 */
export function wholeDigitCrops(grid: CropGrid, cell: Square): number[] {
  const overlaps = Array.from({ length: grid.count }, (_, t) => cropOverlap(grid, t, cell));
  const best = Math.max(...overlaps);
  if (best === 0) {
    throw new RangeError(`Cannot find whole-digit crops: no crop overlaps the cell ${JSON.stringify(cell)}`);
  }
  return overlaps.flatMap((o, t) => (o === best ? [t] : []));
}
