/**
 * Fixed crop distributions P(t|x), built from what is known of each image (where its digit sits,
 * which crops hold ink) rather than learned: the oracle's P (uniform on the 9 whole-digit crops),
 * and the reference points against which objective (2) is compared (`deno task landscape`).
 * Each returns `indices.length × |T|` row-major rows that sum to 1.
 *
 * - `uniform`: 1/|T| everywhere (SimCLR's P);
 * - `wholeDigit`: 1/9 on each crop lying entirely inside the digit's 28×28 cell (the oracle);
 * - `centre`: all mass on the middle one of those 9, the crop centred on the cell;
 * - `nonEmpty`: uniform on the crops with at least one digit pixel;
 * - `partial`: all mass on one non-empty crop that is not a whole-digit crop, drawn uniformly;
 * - `empty`: all mass on one crop without a digit pixel, drawn uniformly.
 *
 * @module
 */

import { emptyCrops, wholeDigitCrops } from "./crops.ts";
import { cellSquare, type Dataset, datasetCropGrid, renderImageBytes } from "./dataset.ts";
import { Prng } from "./prng.ts";

/** The fixed distributions, by name. */
export type FixedDistribution = "uniform" | "wholeDigit" | "centre" | "nonEmpty" | "partial" | "empty";

/** Every fixed distribution, in the order tables list them. */
export const FIXED_DISTRIBUTIONS: readonly FixedDistribution[] = [
  "uniform",
  "wholeDigit",
  "centre",
  "nonEmpty",
  "partial",
  "empty",
];

/**
 * The oracle's P(t|x) of images `indices`: 1/9 on each of the 9 crops inside the digit's cell.
 *
 * @example
 * ```ts
 * import { wholeDigitWeights } from "./crop_distributions.ts";
 * import { loadDataset, takeFirst } from "./dataset.ts";
 * import assert from "node:assert";
 * const ds = takeFirst(await loadDataset("shifted", "test"), 2);
 * const p = wholeDigitWeights(ds, [0, 1]);
 * assert.equal(p.length, 2 * 289);
 * assert.equal(p.filter((v) => v > 0).length, 18);
 * ```
 */
export function wholeDigitWeights(ds: Dataset, indices: readonly number[]): Float32Array {
  return fixedDistribution(ds, indices, "wholeDigit");
}

/**
 * The distribution `name` on images `indices`.
 *
 * @param seed Seeds the draws of `partial` and `empty` (one stream per image index, so an image's
 *   crop does not depend on which other images are asked for).
 * @throws {RangeError} If an image has no crop of the kind asked for (on original MNIST every
 *   crop overlaps the digit's cell, so `partial` needs ink outside the 9 whole-digit crops, and
 *   `empty` a crop without ink).
 */
export function fixedDistribution(
  ds: Dataset,
  indices: readonly number[],
  name: FixedDistribution,
  seed = 0,
): Float32Array {
  const grid = datasetCropGrid(ds);
  const t = grid.count;
  const out = new Float32Array(indices.length * t);
  const image = new Uint8Array(ds.side * ds.side);
  indices.forEach((img, n) => {
    const row = out.subarray(n * t, (n + 1) * t);
    const whole = () => wholeDigitCrops(grid, cellSquare(ds, img));
    const empty = () => emptyCrops(renderImageBytes(ds, img, image), grid);
    const spread = (crops: readonly number[]) => {
      if (crops.length === 0) {
        throw new RangeError(`Cannot build the ${name} distribution of image ${img}: no such crop`);
      }
      for (const c of crops) row[c] = 1 / crops.length;
    };
    const drawOne = (crops: readonly number[]) =>
      spread(crops.length === 0 ? [] : [crops[Prng.fromSeed(seed, `${name}/${img}`).nextInt(crops.length)]!]);
    if (name === "uniform") row.fill(1 / t);
    else if (name === "wholeDigit") spread(whole());
    else if (name === "centre") spread([whole()[4]!]);
    else if (name === "nonEmpty") spread(indicesWhere(empty(), 0));
    else if (name === "empty") drawOne(indicesWhere(empty(), 1));
    else {
      const inCell = new Set(whole());
      drawOne(indicesWhere(empty(), 0).filter((c) => !inCell.has(c)));
    }
  });
  return out;
}

function indicesWhere(flags: Uint8Array, value: number): number[] {
  const out: number[] = [];
  flags.forEach((f, i) => f === value && out.push(i));
  return out;
}
