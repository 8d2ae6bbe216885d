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
import { type PolicyForward, policyForward, policyGrads } from "../model/policy.ts";
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
   * P(T|X)'s forward pass on the batch, or null when P is fixed uniform. The caller reads P(t|x)
   * from its logits (`policyProbs`) together with whatever else it needs then, in one GPU sync,
   * keeps it for `update`, and disposes it.
   */
  forward(batch: Batch): PolicyForward | null;
  /**
   * The P-step, after the encoder's step, from the batch's `forward` (the parameters unchanged
   * since); null when P is fixed.
   */
  update(batch: Batch, forward: PolicyForward | null, encoder: Params, rng: Prng): PolicyStepResult | null;
}

/** P(T|X) fixed uniform: SimCLR. */
export const uniformPolicy: CropPolicy = { params: null, forward: () => null, update: () => null };

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
  return {
    params,
    forward: (batch) => policyForward(params, batch.images()),
    update(batch, forward, encoder, rng) {
      if (!forward) throw new Error("learnedPolicy.update() needs the batch's forward pass");
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
      const { value, grads } = policyGrads(params, forward, (logProbs) => {
        const out = policyLoss(logProbs, crops, sims, config.lambda);
        parts = { objective: tf.keep(out.objective), entropy: tf.keep(out.entropy) };
        return out.loss;
      });
      optimizer.apply(grads);
      tf.dispose([sims, ...Object.values(grads)]);
      return { loss: value, ...parts! };
    },
  };
}
