/** Helpers shared by the tests: seeded data, backend switching, closeness. */

import assert from "node:assert/strict";
import { Prng } from "../src/data/prng.ts";
import { type Method, resolveConfig } from "../src/config.ts";
import { readOutputs, relativeError } from "../src/model/agreement.ts";
import { type Tensor, tf } from "../src/tf.ts";

/** `n` seeded standard-normal values. */
export function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const rng = Prng.fromSeed(seed, "test");
  return Float32Array.from({ length: n }, () => scale * rng.nextNormal());
}

/** Runs `f` on `backend` and returns its tensors' values; the previous backend is restored. */
export async function onBackend(backend: string, f: () => Tensor | Tensor[]): Promise<Float32Array[]> {
  // engine().backendName, unlike getBackend(), does not start a backend when none is set.
  const previous = tf.engine().backendName ?? "wasm";
  await tf.setBackend(backend);
  try {
    return await readOutputs(f);
  } finally {
    await tf.setBackend(previous);
  }
}

/** Asserts `a` equals reference `b` to `tol` relative error (see {@linkcode relativeError}). */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = "") {
  const e = relativeError(a, b);
  assert.ok(e <= tol, `${what} relative error ${e.toExponential(2)} > ${tol}`);
}

/** A run small enough for a unit test: 32 shifted images, batches of 8, 4 crops each, seed 3, wasm. */
export const tinyRun = (method: Method, epochs = 2) =>
  resolveConfig("smoke", "shifted", method, 3, {
    trainSize: 32,
    batch: 8,
    crops: 4,
    policyCrops: 4,
    epochs,
    backend: "wasm",
  });
