/**
 * Whether two backends compute the same thing: the tests check every fast path against the cpu
 * backend this way, and `deno task bench --check` checks a whole training step on the machine it
 * runs on (a GPU driver may get a shape wrong that Mesa got right; REPRODUCE.md, "WebGPU correctness").
 *
 * @module
 */

import { type Tensor, tf } from "../tf.ts";

/**
 * Largest |a − b| over the largest |b|: the relative error of `a` against reference `b`.
 *
 * @throws {RangeError} When the lengths differ.
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`relativeError(): lengths differ (${a.length}, ${b.length})`);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs `f` in a tidy on the current backend and reads its tensors back (then disposes them). */
export async function readOutputs(f: () => Tensor | Tensor[]): Promise<Float32Array[]> {
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  try {
    return await Promise.all(list.map(async (t) => new Float32Array(await t.data())));
  } finally {
    tf.dispose(list);
  }
}

/**
 * How far a step's outputs are from a reference's: the largest {@linkcode relativeError} over its
 * tensors, except that a scalar (a loss) is compared with max(1, |reference|). The losses here are
 * differences of log-sum-exps of order one, so float32 leaves them an absolute error of ~1e-7
 * however small they are (the Jensen loss at initialisation is ~1e-3).
 *
 * @throws {RangeError} When the lists differ in length.
 */
export function stepError(outputs: Float32Array[], reference: Float32Array[]): number {
  if (outputs.length !== reference.length) {
    throw new RangeError(`stepError(): ${outputs.length} outputs, ${reference.length} references`);
  }
  return Math.max(...outputs.map((o, i) => {
    const r = reference[i]!;
    return r.length === 1 && o.length === 1
      ? Math.abs(o[0]! - r[0]!) / Math.max(1, Math.abs(r[0]!))
      : relativeError(o, r);
  }));
}
