/**
 * Where a crop distribution puts its mass, per image: on non-empty crops (the paper's crop
 * concentration), on the oracle crops inside the digit's cell, on crops at least half inside it,
 * and how much of a chosen crop lies in the cell. Plain arrays: used during training (on the P(T|X) values already read
 * back for sampling) and in evaluation.
 *
 * @module
 */

import { type CropGrid, cropOverlap, emptyCrops, oracleCrops, type Square } from "./crops.ts";
import { cellSquareOf, type Dataset, datasetCropGrid, renderImageBytes } from "./dataset.ts";

/** Mean over images of statistics of P(T|x). */
export interface CropStats {
  /** Entropy in nats (ln 289 = 5.67 for the uniform distribution on shifted MNIST). */
  readonly entropy: number;
  /** Mass on crops holding at least one digit pixel: the crop concentration. */
  readonly nonEmptyMass: number;
  /** Mass on the oracle crops (the 9 inside the digit's cell). */
  readonly oracleMass: number;
  /** Mass on crops with at least half their area inside the digit's cell (whole digits and large parts). */
  readonly halfCellMass: number;
  /** Expected fraction of a crop's area that lies in the digit's cell. */
  readonly cellOverlap: number;
  /** Largest single crop probability. */
  readonly maxProb: number;
}

/** The crops with at least half their area inside `cell` (whole digits and large parts of them). */
export function halfCellCrops(grid: CropGrid, cell: Square): number[] {
  const area = grid.cropSide * grid.cropSide;
  return Array.from({ length: grid.count }, (_, t) => t).filter((t) => cropOverlap(grid, t, cell) >= area / 2);
}

/** Per-cell tables: the overlap fraction of every crop and the oracle mask. */
function cellTables(ds: Dataset) {
  const grid = datasetCropGrid(ds);
  const cells = ds.cellsPerSide ** 2;
  return Array.from({ length: cells }, (_, cell) => {
    const square = cellSquareOf(cell, ds.cellsPerSide);
    const area = grid.cropSide * grid.cropSide;
    const overlap = Float64Array.from({ length: grid.count }, (_, t) => cropOverlap(grid, t, square) / area);
    const oracle = new Uint8Array(grid.count);
    for (const t of oracleCrops(grid, square)) oracle[t] = 1;
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
  const sum = { entropy: 0, nonEmptyMass: 0, oracleMass: 0, halfCellMass: 0, cellOverlap: 0, maxProb: 0 };
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n]!;
    const empty = emptyCrops(renderImageBytes(ds, i, image), grid);
    const { overlap, oracle, half } = tables[ds.cells[i]!]!;
    let maxProb = 0;
    for (let c = 0; c < t; c++) {
      const p = probs[n * t + c]!;
      if (p > 0) sum.entropy -= p * Math.log(p);
      if (!empty[c]) sum.nonEmptyMass += p;
      if (oracle[c]) sum.oracleMass += p;
      if (half[c]) sum.halfCellMass += p;
      sum.cellOverlap += p * overlap[c]!;
      maxProb = Math.max(maxProb, p);
    }
    sum.maxProb += maxProb;
  }
  const n = indices.length;
  return {
    entropy: sum.entropy / n,
    nonEmptyMass: sum.nonEmptyMass / n,
    oracleMass: sum.oracleMass / n,
    halfCellMass: sum.halfCellMass / n,
    cellOverlap: sum.cellOverlap / n,
    maxProb: sum.maxProb / n,
  };
}
