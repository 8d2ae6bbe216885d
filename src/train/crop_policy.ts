/**
 * Crop policies: how the trainer draws the h-step's crops and whether P(T|X) is updated. SimCLR is
 * the {@linkcode uniformPolicy} (P fixed uniform, no P-step); CRL-TAC is the
 * {@linkcode learnedPolicy}. The trainer holds one loop for both.
 *
 * @module
 */

import type { TrainConfig } from "../config.ts";
import { type Dataset, extractCrops } from "../data/dataset.ts";
import type { Prng } from "../data/prng.ts";
import { embed } from "../model/encoder.ts";
import { matMul } from "../model/ops.ts";
import type { Params } from "../model/params.ts";
import { policyLogProbs } from "../model/policy.ts";
import { policyLoss } from "../objective/pstep.ts";
import { type Scalar, type Tensor2D, type Tensor4D, tf } from "../tf.ts";
import type { Adam } from "./adam.ts";

/** One iteration's images. */
export interface Batch {
  readonly ds: Dataset;
  /** Dataset indices. */
  readonly indices: readonly number[];
  /** The images as `[N,S,S,1]`, rendered on first use (SimCLR never needs them). */
  images(): Tensor4D;
}

/** The P-step's loss parts; the caller reads them back and disposes them. */
export interface PolicyStepResult {
  readonly loss: Scalar;
  readonly objective: Scalar;
  readonly entropy: Scalar;
}

/** How crops are drawn. */
export interface CropPolicy {
  /** Parameters of P(T|X), or null when P is fixed. */
  readonly params: Params | null;
  /**
   * P(t|x) for the batch, `N × |T|`: for a learned P a tensor, which the caller reads back (with
   * whatever else it needs then, in one GPU sync) and disposes; for a fixed P the values.
   */
  probabilities(batch: Batch): Tensor2D | Float32Array;
  /** The P-step, after the encoder's step; null when P is fixed. */
  update(batch: Batch, encoder: Params, rng: Prng): PolicyStepResult | null;
}

/** P(T|X) fixed uniform: SimCLR. */
export function uniformPolicy(cropCount: number): CropPolicy {
  return {
    params: null,
    probabilities: (batch) => new Float32Array(batch.indices.length * cropCount).fill(1 / cropCount),
    update: () => null,
  };
}

/**
 * P(T|X) learned by the P-step: CRL-TAC.
 *
 * @param params P(T|X)'s parameters.
 * @param optimizer Adam over `params`.
 * @param config λ, β and the number of uniform crops per image.
 * @param cropCount |T|.
 */
export function learnedPolicy(
  params: Params,
  optimizer: Adam,
  config: Pick<TrainConfig, "lambda" | "beta" | "policyCrops">,
  cropCount: number,
): CropPolicy {
  const vars = [...params.values()];
  return {
    params,
    probabilities: (batch) => tf.tidy(() => tf.exp(policyLogProbs(params, batch.images()))),
    update(batch, encoder, rng) {
      const k = config.policyCrops;
      const n = batch.indices.length;
      const crops = Int32Array.from({ length: n * k }, () => rng.nextInt(cropCount));
      const owners = Int32Array.from({ length: n * k }, (_, i) => batch.indices[Math.floor(i / k)]!);
      // The embeddings enter as constants: gradients reach only P(T|X).
      const sims = tf.tidy(() => {
        const x = tf.tensor4d(extractCrops(batch.ds, owners, crops), [n * k, 20, 20, 1]);
        const z = embed(encoder, x);
        return tf.mul(matMul(z, tf.transpose(z)), config.beta) as Tensor2D;
      });
      let parts: { objective: Scalar; entropy: Scalar } | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const out = policyLoss(policyLogProbs(params, batch.images()), crops, sims, config.lambda);
        parts = { objective: tf.keep(out.objective), entropy: tf.keep(out.entropy) };
        return out.loss;
      }, vars);
      optimizer.apply(grads);
      tf.dispose([sims, ...Object.values(grads)]);
      return { loss: value, ...parts! };
    },
  };
}
