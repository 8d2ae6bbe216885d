/**
 * Where a crop distribution puts its mass, per image: on non-empty crops (the paper's crop
 * concentration), on the 9 whole-digit crops inside the digit's cell, on crops at least half
 * inside it, and how much of a chosen crop lies in the cell; and its entropy. Plain arrays: used
 * during training (on the P(T|X) values already read back for sampling) and in evaluation.
 *
 * @module
 */

import { type CropGrid, cropOverlap, emptyCrops, type Square, wholeDigitCrops } from "./crops.ts";
import { cellSquareOf, type Dataset, datasetCropGrid, renderImageBytes } from "./dataset.ts";

/** Mean over images of statistics of P(T|x). */
export interface CropStats {
  /** Entropy in nats (ln 289 = 5.67 for the uniform distribution on shifted MNIST). */
  readonly entropy: number;
  /** Mass on crops holding at least one digit pixel: the crop concentration. */
  readonly concentration: number;
  /** Mass on the 9 whole-digit crops (inside the digit's cell). */
  readonly wholeDigitMass: number;
  /** Mass on crops with at least half their area inside the digit's cell (whole digits and large parts). */
  readonly halfCellMass: number;
  /** Expected fraction of a crop's area that lies in the digit's cell. */
  readonly cellOverlap: number;
  /** Largest single crop probability. */
  readonly maxProb: number;
}

/**
 * H(T|X) in nats: the mean over images of −Σ_t P(t|x) ln P(t|x). (The P-step's loss has its
 * differentiable counterpart on log P, src/objective/pstep.ts.)
 *
 * @param probs P(t|x), `images × |T|` row-major.
 * @param images The number of images.
 */
export function meanEntropy(probs: ArrayLike<number>, images: number): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p > 0) sum -= p * Math.log(p);
  }
  return sum / images;
}

/** The crops with at least half their area inside `cell` (whole digits and large parts of them). */
export function halfCellCrops(grid: CropGrid, cell: Square): number[] {
  const area = grid.cropSide * grid.cropSide;
  return Array.from({ length: grid.count }, (_, t) => t).filter((t) => cropOverlap(grid, t, cell) >= area / 2);
}

/** Per-cell tables: the overlap fraction of every crop and the whole-digit mask. */
function cellTables(ds: Dataset) {
  const grid = datasetCropGrid(ds);
  const cells = ds.cellsPerSide ** 2;
  return Array.from({ length: cells }, (_, cell) => {
    const square = cellSquareOf(cell, ds.cellsPerSide);
    const area = grid.cropSide * grid.cropSide;
    const overlap = Float64Array.from({ length: grid.count }, (_, t) => cropOverlap(grid, t, square) / area);
    const oracle = new Uint8Array(grid.count);
    for (const t of wholeDigitCrops(grid, square)) oracle[t] = 1;
    const half = new Uint8Array(grid.count);
    for (const t of halfCellCrops(grid, square)) half[t] = 1;
    return { overlap, oracle, half };
  });
}

const tablesCache = new WeakMap<Uint8Array, ReturnType<typeof cellTables>>();

/**
 * Statistics of P(T|x) for a set of images.
 *
 * @param ds The dataset.
 * @param indices The images, in the order of `probs`' rows.
 * @param probs P(t|x), `indices.length × |T|` row-major.
 */
export function cropStats(ds: Dataset, indices: ArrayLike<number>, probs: ArrayLike<number>): CropStats {
  const grid = datasetCropGrid(ds);
  const t = grid.count;
  if (probs.length !== indices.length * t) {
    throw new RangeError(`Cannot read ${probs.length} probabilities as ${indices.length} × ${t}`);
  }
  let tables = tablesCache.get(ds.cells);
  if (!tables) tablesCache.set(ds.cells, tables = cellTables(ds));
  const image = new Uint8Array(ds.side * ds.side);
  const sum = { concentration: 0, wholeDigitMass: 0, halfCellMass: 0, cellOverlap: 0, maxProb: 0 };
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    const empty = emptyCrops(renderImageBytes(ds, i, image), grid);
    const { overlap, oracle, half } = tables[ds.cells[i]!]!;
    let maxProb = 0;
    for (let c = 0; c < t; c++) {
      const p = probs[n * t + c]!;
      if (!empty[c]) sum.concentration += p;
      if (oracle[c]) sum.wholeDigitMass += p;
      if (half[c]) sum.halfCellMass += p;
      sum.cellOverlap += p * overlap[c]!;
      maxProb = Math.max(maxProb, p);
    }
    sum.maxProb += maxProb;
  }
  const n = indices.length;
  return {
    entropy: meanEntropy(probs, n),
    concentration: sum.concentration / n,
    wholeDigitMass: sum.wholeDigitMass / n,
    halfCellMass: sum.halfCellMass / n,
    cellOverlap: sum.cellOverlap / n,
    maxProb: sum.maxProb / n,
  };
}
