/**
 * The crop distribution's objective (P-step): the paper's objective (2) on crops drawn uniformly,
 * each weighted by P(t|x), plus λ·H(T|X). Only P(T|X) receives gradients: the embeddings are
 * computed beforehand and enter as constants.
 *
 * For N images × k uniform crops, image n's crops get self-normalised weights
 * wᵢ = P(tᵢ|xₙ) / Σ_{j ∈ n} P(tⱼ|xₙ), the importance weights of P against the uniform draw.
 * With sᵢⱼ = β zᵢᵀzⱼ, sample i of image n(i) scores
 *
 *   numᵢ = log Σ_{j ∈ n(i), j ≠ i} wⱼ e^{sᵢⱼ} / Σ_{j ∈ n(i), j ≠ i} wⱼ         (log E_{T'|X} e^{βS})
 *   denᵢ = log 1/N ( Σ_{k ∉ n(i)} wₖ e^{sᵢₖ} + e^{numᵢ} )                     (log E_{X',T''} e^{βS})
 *
 * (the sample itself is left out of both, and its own image's other crops are renormalised, as in
 * the numerator). The objective is I = 1/N Σᵢ wᵢ (numᵢ − denᵢ); with
 * H(T|X) = mean over images of −Σ_t P(t|x) log P(t|x) over all |T| crops, the loss is −I − λH.
 *
 * @module
 */

import { type Scalar, type Tensor2D, tf } from "../tf.ts";
import { groupMasks, maskedLogSumExp } from "./masks.ts";

/** The P-step loss and its parts, as scalars. */
export interface PolicyLoss {
  /** −I − λH, the quantity minimised. */
  readonly loss: Scalar;
  /** I, the weighted objective (2). */
  readonly objective: Scalar;
  /** H(T|X) in nats. */
  readonly entropy: Scalar;
}

/**
 * The P-step loss.
 *
 * @param logProbs log P(t|x) for all crops, `[N,|T|]` (differentiable).
 * @param crops The k uniformly drawn crop indices of each image, `N × k` row-major.
 * @param sims β zᵢᵀzⱼ between the `N·k` drawn crops, `[N·k, N·k]`, image n's crops in rows
 *   `n·k … n·k + k − 1` (a constant).
 * @param lambda Weight λ of the entropy term.
 */
export function policyLoss(
  logProbs: Tensor2D,
  crops: Int32Array,
  sims: Tensor2D,
  lambda: number,
): PolicyLoss {
  const [n, cropCount] = logProbs.shape;
  const k = crops.length / n;
  if (!(Number.isInteger(k) && k >= 2 && n >= 2 && sims.shape[0] === n * k)) {
    throw new RangeError(
      `policyLoss() needs k ≥ 2 crops of N ≥ 2 images and [N·k, N·k] similarities; got N = ${n}, ` +
        `${crops.length} crops, similarities [${sims.shape}]`,
    );
  }
  return tf.tidy(() => {
    const { same, other } = groupMasks(n, k);
    // log P of each drawn crop through a one-hot product: tf.gather's gradient needs
    // UnsortedSegmentSum, which the wasm backend lacks.
    const picked = tf.oneHot(tf.tensor2d(crops, [n, k], "int32"), cropCount);
    const logP = tf.sum(tf.mul(picked, tf.expandDims(logProbs, 1)), 2);
    const logW = tf.reshape(tf.sub(logP, tf.logSumExp(logP, 1, true)), [1, n * k]) as Tensor2D;
    const weighted = tf.add(sims, logW) as Tensor2D; // row i, column j: log wⱼ + sᵢⱼ
    const logWRows = tf.mul(tf.onesLike(sims), logW) as Tensor2D;
    const num = tf.sub(maskedLogSumExp(weighted, same), maskedLogSumExp(logWRows, same));
    const den = tf.sub(
      tf.logSumExp(tf.concat([maskedLogSumExp(weighted, other), num], 1), 1, true),
      Math.log(n),
    );
    const w = tf.exp(tf.reshape(logW, [n * k, 1]));
    const objective = tf.div(tf.sum(tf.mul(w, tf.sub(num, den))), n) as Scalar;
    const probs = tf.exp(logProbs);
    const entropy = tf.neg(tf.mean(tf.sum(tf.mul(probs, logProbs), 1))) as Scalar;
    return {
      loss: tf.neg(tf.add(objective, tf.mul(entropy, lambda))) as Scalar,
      objective,
      entropy,
    };
  });
}
