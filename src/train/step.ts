/**
 * One training iteration's two steps, the only place they are written: the training session
 * (./session.ts) applies their gradients with Adam, `deno task bench` times them and the backend
 * tests compare their outputs across backends.
 *
 * - {@linkcode hStep}: the encoder's loss, minus the Jensen bound of objective (2) on m crops per
 *   image (src/objective/hstep.ts), and its gradients;
 * - {@linkcode pStep}: P(T|X)'s loss, −I − λH with I estimated from k uniformly drawn crops per
 *   image as the config's estimator says (src/objective/pstep.ts), and its gradients, pulled back
 *   from the forward pass of P(T|X) that drew the h-step's crops.
 *
 * @module
 */

import { CROP_SIDE } from "../data/crops.ts";
import { type Dataset, extractCrops } from "../data/dataset.ts";
import { embed } from "../model/encoder.ts";
import type { Params } from "../model/params.ts";
import { type PolicyForward, policyGrads } from "../model/policy.ts";
import { jensenLoss } from "../objective/hstep.ts";
import { type PolicyBatch, type PolicyStepConfig, policyStepLoss } from "../objective/pstep.ts";
import { type Scalar, type Tensor, tf } from "../tf.ts";

/** One iteration's images. */
export type Batch = PolicyBatch;

/** A step's loss and the gradient of each parameter; the caller applies and frees them. */
export interface StepGrads {
  /** The step's loss, which it minimises. */
  readonly loss: Scalar;
  /** The loss's gradient for each parameter, by parameter name. */
  readonly grads: Record<string, Tensor>;
}

/** The P-step's result: its loss, the parts of it, and P(T|X)'s gradients. */
export interface PolicyStepGrads extends StepGrads {
  /** I, the estimate of objective (2). */
  readonly objective: Scalar;
  /** H(T|X) in nats. */
  readonly entropy: Scalar;
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

/**
 * The P-step on `batch`, from P(T|X)'s forward pass on it (its parameters unchanged since), with
 * `crops` the k uniformly drawn crops of each image (`N × k` row-major). The embeddings enter as
 * constants: only P(T|X) gets gradients.
 */
export function pStep(
  policy: Params,
  forward: PolicyForward,
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: PolicyStepConfig,
  cropCount: number,
): PolicyStepGrads {
  const lossOf = policyStepLoss(batch, encoder, crops, config, cropCount);
  try {
    let parts: { objective: Scalar; entropy: Scalar } | undefined;
    const { value, grads } = policyGrads(policy, forward, (logProbs) => {
      const out = lossOf.loss(logProbs);
      parts = { objective: tf.keep(out.objective), entropy: tf.keep(out.entropy) };
      return out.loss;
    });
    return { loss: value, grads, ...parts! };
  } finally {
    tf.dispose(lossOf.constants);
  }
}
