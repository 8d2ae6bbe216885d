/**
 * Crop policies: how training draws the h-step's crops and whether P(T|X) is updated. SimCLR is
 * the {@linkcode uniformPolicy} (P fixed uniform, no P-step); CRL-TAC is the
 * {@linkcode learnedPolicy}; the oracle ablation is the {@linkcode oraclePolicy} (P fixed on the
 * 9 whole-digit crops, no P-step). The training session (./session.ts) holds one loop for all three.
 *
 * @module
 */

import type { TrainConfig } from "../config.ts";
import { wholeDigitWeights } from "../data/crop_distributions.ts";
import { datasetCropGrid } from "../data/dataset.ts";
import type { Prng } from "../data/prng.ts";
import type { Params } from "../model/params.ts";
import { type PolicyForward, policyForward } from "../model/policy_backward.ts";
import { type Batch, type PolicyLoss, pStep } from "../objective/pstep.ts";
import { tf } from "../tf.ts";
import type { Adam } from "./adam.ts";

/** How crops are drawn. */
export interface CropPolicy {
  /** Parameters of P(T|X), or null when P is fixed. */
  readonly params: Params | null;
  /** P(t|x) of a batch on the host when P is fixed, `N × |T|`; null when P is learned. */
  readonly fixed: ((batch: Batch) => Float32Array) | null;
  /**
   * P(T|X)'s forward pass on the batch, or null when P is fixed. The caller reads P(t|x)
   * from its logits (`policyProbs`) together with whatever else it needs then, in one GPU sync,
   * keeps it for `update`, and disposes it.
   */
  forward(batch: Batch): PolicyForward | null;
  /**
   * The P-step, after the encoder's step, from the batch's `forward` (the parameters unchanged
   * since): its loss parts, which the caller reads back and disposes; null when P is fixed.
   */
  update(batch: Batch, forward: PolicyForward | null, encoder: Params, rng: Prng): PolicyLoss | null;
}

/** P(T|X) fixed uniform: SimCLR. */
export const uniformPolicy: CropPolicy = {
  params: null,
  fixed: (batch) => {
    const count = datasetCropGrid(batch.ds).count;
    return new Float32Array(batch.indices.length * count).fill(1 / count);
  },
  forward: () => null,
  update: () => null,
};

/** P(T|X) fixed uniform on the 9 crops inside each image's digit cell: the oracle ablation (privileged). */
export const oraclePolicy: CropPolicy = {
  params: null,
  fixed: (batch) => wholeDigitWeights(batch.ds, batch.indices),
  forward: () => null,
  update: () => null,
};

/**
 * P(T|X) learned by the P-step: CRL-TAC.
 *
 * @param params P(T|X)'s parameters.
 * @param optimizer Adam over `params`.
 * @param config λ, β, the estimator of objective (2) and its number of uniform crops per image.
 * @param cropCount |T|.
 */
export function learnedPolicy(
  params: Params,
  optimizer: Adam,
  config: Pick<TrainConfig, "lambda" | "beta" | "policyCrops" | "policyEstimator" | "policySelf">,
  cropCount: number,
): CropPolicy {
  return {
    params,
    fixed: null,
    forward: (batch) => policyForward(params, batch.images()),
    update(batch, forward, encoder, rng) {
      if (!forward) throw new Error("learnedPolicy.update() needs the batch's forward pass");
      const { loss, grads, objective, entropy } = pStep(params, forward, batch, encoder, rng, config, cropCount);
      optimizer.apply(grads);
      tf.dispose(Object.values(grads));
      return { loss, objective, entropy };
    },
  };
}
