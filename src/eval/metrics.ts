/**
 * The paper's uniformity of a representation (how spread the head representations are on the
 * sphere) and the helpers its figures use. The paper's other statistic beyond accuracy, crop
 * concentration, is src/data/crop_stats.ts's `concentration`.
 *
 * @module
 */

import { Prng } from "../data/prng.ts";

/**
 * Distinct random pairs of `count` items, from a fixed seed so that every run is scored on the
 * same pairs.
 *
 * @returns `[i, j]` with i ≠ j, `pairs` of them.
 */
export function randomPairs(count: number, pairs: number, seed = 0): [number, number][] {
  if (count < 2) throw new RangeError(`Cannot draw pairs from ${count} items`);
  const rng = Prng.fromSeed(seed, "pairs");
  return Array.from({ length: pairs }, () => {
    const i = rng.nextInt(count);
    const j = (i + 1 + rng.nextInt(count - 1)) % count;
    return [i, j];
  });
}

function dot(z: Float32Array, dim: number, i: number, j: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += z[i * dim + d]! * z[j * dim + d]!;
  return s;
}

/**
 * The uniformity potential: mean over the pairs of exp(−2‖zᵢ − zⱼ‖²) (Wang & Isola 2020, t = 2).
 * 1 when every representation is the same point; small when they spread over the sphere.
 *
 * @param z Representations, `n × dim` row-major.
 *
 * @example
 * ```ts
 * import { uniformityPotential } from "./metrics.ts";
 * import assert from "node:assert";
 * // Two antipodal points: ‖z − z'‖² = 4, potential e^{-8}.
 * const z = new Float32Array([1, 0, -1, 0]);
 * assert.ok(Math.abs(uniformityPotential(z, 2, [[0, 1]]) - Math.exp(-8)) < 1e-12);
 * ```
 */
export function uniformityPotential(z: Float32Array, dim: number, pairs: readonly [number, number][]): number {
  let sum = 0;
  for (const [i, j] of pairs) {
    let d2 = 0;
    for (let d = 0; d < dim; d++) d2 += (z[i * dim + d]! - z[j * dim + d]!) ** 2;
    sum += Math.exp(-2 * d2);
  }
  return sum / pairs.length;
}

/**
 * |⟨zᵢ, zⱼ⟩| over the pairs, sorted from largest to smallest (the paper's Fig. 8).
 *
 * @param z Representations, `n × dim` row-major.
 */
export function sortedAbsInnerProducts(z: Float32Array, dim: number, pairs: readonly [number, number][]): number[] {
  return pairs.map(([i, j]) => Math.abs(dot(z, dim, i, j))).sort((a, b) => b - a);
}

/** Mean and (population) standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * At most `max` evenly spaced indices of `0 … count − 1`, the first and last included: a thinned
 * curve keeps its ends and its shape.
 *
 * @example
 * ```ts
 * import { evenlySpaced } from "./metrics.ts";
 * import assert from "node:assert";
 * assert.deepEqual(evenlySpaced(11, 3), [0, 5, 10]);
 * assert.deepEqual(evenlySpaced(2, 5), [0, 1]);
 * ```
 */
export function evenlySpaced(count: number, max: number): number[] {
  const m = Math.min(count, max);
  if (m === 1) return [0];
  return Array.from({ length: m }, (_, k) => Math.round((k * (count - 1)) / (m - 1)));
}
