/**
 * Objective (2) of the paper computed exactly for fixed crop distributions: no sampling, every crop
 * of every image, each crop's own term kept. With N images of |T| crops, unit embeddings zₙₜ,
 * K(nt, mu) = e^{β zₙₜᵀzₘᵤ} and a crop distribution pₙₜ = P(t|xₙ),
 *
 *   I(P)   = 1/N Σₙ Σₜ pₙₜ [ log Σᵤ pₙᵤ K(nt, nu) − log 1/N Σₘ Σᵤ pₘᵤ K(nt, mu) ]
 *   H(T|X) = 1/N Σₙ −Σₜ pₙₜ log pₙₜ
 *
 * the sample version of E_{X,T}[log E_{T'|X} e^{βS} − log E_{X',T''} e^{βS}] with Z = h(TX), the
 * denominator's X' running over every image of the batch, X's own included. The P-step maximises
 * I + λH over P(T|X); evaluating it at fixed P (the learned one, the whole-digit crops, one empty
 * crop, …) shows which of them the objective itself prefers for a given encoder.
 *
 * A distribution that puts all its mass on one crop per image has the numerator β (its own term),
 * the largest possible, whatever the crop: (2) rewards concentration as such, and only λ·H pays
 * for spreading mass over the 9 crops of a whole digit.
 *
 * @module
 */

import { meanEntropy } from "../data/crop_stats.ts";
import { type Tensor2D, tf } from "../tf.ts";

/** I and H of each distribution, in nats. */
export interface ExactObjective {
  /** I(P), objective (2), per distribution. */
  readonly objective: Float64Array;
  /** H(T|X) per distribution. */
  readonly entropy: Float64Array;
}

/** Images whose rows of K are computed at once: 578 × 18,496 floats (43 MB) per intermediate for 64 shifted images. */
const IMAGES_PER_BLOCK = 2;

/**
 * I(P) and H(T|X) of objective (2) for several crop distributions on one batch of images.
 *
 * @param z Unit embeddings of every crop, `[N·|T|, d]`, image n's crops in rows `n·|T| …`.
 * @param distributions Each `N × |T|` row-major, rows summing to 1.
 * @param cropCount |T|.
 * @param beta β.
 * @throws {RangeError} If the sizes disagree.
 */
export async function exactObjective(
  z: Tensor2D,
  distributions: readonly Float32Array[],
  cropCount: number,
  beta: number,
): Promise<ExactObjective> {
  const rows = z.shape[0], t = cropCount, n = rows / t, d = distributions.length;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Cannot read ${rows} embeddings as images of ${t} crops`);
  for (const [k, p] of distributions.entries()) {
    if (p.length !== rows) {
      throw new RangeError(`Cannot use distribution ${k}: ${p.length} values for ${n} × ${t} crops`);
    }
  }
  // P as columns, [N·|T|, D]: one product gives every distribution's sums.
  const columns = new Float32Array(rows * d);
  distributions.forEach((p, k) => p.forEach((v, r) => columns[r * d + k] = v));
  const objective = new Float64Array(d);
  const [zT, pColumns] = tf.tidy(() => [tf.transpose(z), tf.tensor2d(columns, [rows, d])]);
  try {
    for (let first = 0; first < n; first += IMAGES_PER_BLOCK) {
      const count = Math.min(IMAGES_PER_BLOCK, n - first);
      const packed = tf.tidy(() => {
        const kernel = tf.exp(tf.mul(tf.matMul(tf.slice(z, [first * t, 0], [count * t, -1]), zT), beta)) as Tensor2D;
        const all = tf.matMul(kernel, pColumns); // Σₘ Σᵤ pₘᵤ K(nt, mu), [count·|T|, D]
        const own = tf.concat(Array.from({ length: count }, (_, i) => {
          const image = first + i;
          const block = tf.slice(kernel, [i * t, image * t], [t, t]);
          return tf.matMul(block, tf.slice(pColumns, [image * t, 0], [t, d]));
        })); // Σᵤ pₙᵤ K(nt, nu)
        return tf.concat([tf.reshape(all, [-1]), tf.reshape(own, [-1])]);
      });
      const values = await packed.data(); // one read-back per block
      packed.dispose();
      const half = count * t * d;
      for (let r = 0; r < count * t; r++) {
        const row = first * t + r;
        for (let k = 0; k < d; k++) {
          const p = columns[row * d + k]!;
          if (p === 0) continue;
          objective[k]! += p * (Math.log(values[half + r * d + k]!) - Math.log(values[r * d + k]! / n));
        }
      }
    }
  } finally {
    tf.dispose([zT, pColumns]);
  }
  for (let k = 0; k < d; k++) objective[k]! /= n;
  // Of the distributions as the product above read them, in single precision.
  const entropy = Float64Array.from(distributions, (p) => meanEntropy(Float32Array.from(p), n));
  return { objective, entropy };
}
