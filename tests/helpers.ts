/** Helpers shared by the tests: seeded data, backend switching, closeness. */

import assert from "node:assert/strict";
import { Prng } from "../src/data/prng.ts";
import { type Tensor, tf } from "../src/tf.ts";

/** `n` seeded standard-normal values. */
export function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const rng = Prng.fromSeed(seed, "test");
  return Float32Array.from({ length: n }, () => scale * rng.nextNormal());
}

/** Runs `f` on `backend` and returns its tensors' values; the previous backend is restored. */
export async function onBackend<T extends Tensor | Tensor[]>(
  backend: string,
  f: () => T,
): Promise<Float32Array[]> {
  // engine().backendName, unlike getBackend(), does not start a backend when none is set.
  const previous = tf.engine().backendName ?? "wasm";
  await tf.setBackend(backend);
  try {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => new Float32Array(await t.data())));
    tf.dispose(list);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

/** Largest |a − b| over the largest |b|: the relative error of `a` against reference `b`. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Asserts `a` equals reference `b` to `tol` relative error (see {@linkcode relativeError}). */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = "") {
  const e = relativeError(a, b);
  assert.ok(e <= tol, `${what} relative error ${e.toExponential(2)} > ${tol}`);
}
