/**
 * The encoder's objective (h-step): the Jensen lower bound of the paper's objective (2) on crops
 * sampled from P(T|X).
 *
 * For a batch of N images × m crops, with unit embeddings z and S(a, b) = aᵀb, sample i of
 * image n(i) scores
 *
 *   ℓᵢ = 1/(m−1) Σ_{j ∈ n(i), j ≠ i} β zᵢᵀzⱼ − log( 1/(Nm−1) Σ_{k ≠ i} exp(β zᵢᵀzₖ) ),
 *
 * Jensen's inequality applied to the numerator's log E_{T'|X} exp(·), and the loss is −mean ℓᵢ.
 * With m = 2 this is SimCLR's NT-Xent at temperature 1/β minus log(2N − 1) (paper, appendix).
 * {@linkcode hStep} is the whole step: the crops embedded, the loss and the encoder's gradients,
 * which the trainer applies with Adam.
 *
 * @module
 */

import { CROP_SIDE } from "../data/crops.ts";
import { type Dataset, extractCrops } from "../data/dataset.ts";
import { matMul } from "../kernels/ops.ts";
import { embed } from "../model/encoder.ts";
import type { Params } from "../model/params.ts";
import { type Scalar, type Tensor, type Tensor2D, tf } from "../tf.ts";
import { groupMasks, maskedLogSumExp } from "./masks.ts";

/**
 * The h-step loss.
 *
 * @param z Unit embeddings `[N·m, d]`, the m crops of each image in consecutive rows.
 * @param m Crops per image (≥ 2).
 * @param beta Inverse temperature β.
 * @returns The scalar −mean ℓᵢ.
 *
 * @example
 * ```ts
 * import { jensenLoss } from "./hstep.ts";
 * import { tf } from "../tf.ts";
 * import assert from "node:assert";
 * // Two images, two crops each, every crop embedded to the same point: ℓ = β − log(e^β) = 0.
 * const z = tf.tensor2d([[1, 0], [1, 0], [1, 0], [1, 0]]);
 * assert.ok(Math.abs(jensenLoss(z, 2, 0.5).dataSync()[0]!) < 1e-6);
 * ```
 */
export function jensenLoss(z: Tensor2D, m: number, beta: number): Scalar {
  const b = z.shape[0];
  if (!(Number.isInteger(m) && m >= 2 && b % m === 0 && b > m)) {
    throw new RangeError(`jensenLoss() needs m ≥ 2 crops of at least 2 images, got ${b} rows, m = ${m}`);
  }
  return tf.tidy(() => {
    const { self, same } = groupMasks(b / m, m);
    const s = tf.mul(matMul(z, tf.transpose(z)), beta) as Tensor2D;
    const positive = tf.div(tf.sum(tf.mul(s, same), 1, true), m - 1);
    const negative = tf.sub(maskedLogSumExp(s, tf.sub(1, self)), Math.log(b - 1));
    return tf.neg(tf.mean(tf.sub(positive, negative)));
  });
}

/** A step's loss and the gradient of each parameter; the caller applies and frees them. */
export interface StepGrads {
  /** The step's loss, which it minimises. */
  readonly loss: Scalar;
  /** The loss's gradient for each parameter, by parameter name. */
  readonly grads: Record<string, Tensor>;
}

/**
 * The h-step on the crops `crops[i]` of images `owners[i]`, m consecutive ones per image.
 *
 * @param m Crops per image.
 * @param beta β.
 */
export function hStep(
  encoder: Params,
  ds: Dataset,
  owners: ArrayLike<number>,
  crops: ArrayLike<number>,
  m: number,
  beta: number,
): StepGrads {
  const x = tf.tensor4d(extractCrops(ds, owners, crops), [owners.length, CROP_SIDE, CROP_SIDE, 1]);
  try {
    const { value, grads } = tf.variableGrads(() => jensenLoss(embed(encoder, x), m, beta), [...encoder.values()]);
    return { loss: value, grads };
  } finally {
    x.dispose();
  }
}
