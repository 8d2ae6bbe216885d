/**
 * Crop policies: how the trainer draws the h-step's crops and whether P(T|X) is updated. SimCLR is
 * the {@linkcode uniformPolicy} (P fixed uniform, no P-step); CRL-TAC is the
 * {@linkcode learnedPolicy}; the oracle ablation is the {@linkcode oraclePolicy} (P fixed on the
 * 9 whole-digit crops, no P-step). The trainer holds one loop for all three.
 *
 * @module
 */

import type { TrainConfig } from "../config.ts";
import { oracleWeights } from "../data/crop_distributions.ts";
import { type Dataset, datasetCropGrid, extractCrops } from "../data/dataset.ts";
import type { Prng } from "../data/prng.ts";
import { allCropEmbeddings, embed } from "../model/encoder.ts";
import { matMul } from "../model/ops.ts";
import type { Params } from "../model/params.ts";
import { type PolicyForward, policyForward, policyGrads } from "../model/policy.ts";
import { exactPolicyLoss, hybridPolicyLoss, type PolicyLoss, policyLoss } from "../objective/pstep.ts";
import { type Scalar, type Tensor2D, type Tensor3D, type Tensor4D, tf } from "../tf.ts";
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
   * since); null when P is fixed.
   */
  update(batch: Batch, forward: PolicyForward | null, encoder: Params, rng: Prng): PolicyStepResult | null;
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
  fixed: (batch) => oracleWeights(batch.ds, batch.indices),
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
      const k = config.policyCrops;
      const n = batch.indices.length;
      const crops = Int32Array.from({ length: n * k }, () => rng.nextInt(cropCount));
      const lossOf = policyStepLoss(batch, encoder, crops, config, cropCount);
      let parts: { objective: Scalar; entropy: Scalar } | undefined;
      const { value, grads } = policyGrads(params, forward, (logProbs) => {
        const out = lossOf.loss(logProbs);
        parts = { objective: tf.keep(out.objective), entropy: tf.keep(out.entropy) };
        return out.loss;
      });
      optimizer.apply(grads);
      tf.dispose([...lossOf.constants, ...Object.values(grads)]);
      return { loss: value, ...parts! };
    },
  };
}

/** A P-step loss of log P(t|x) and the constant tensors it reads, which the caller frees after the step. */
export interface PolicyStepLoss {
  loss(logProbs: Tensor2D): PolicyLoss;
  readonly constants: tf.Tensor[];
}

/**
 * The P-step's loss on `batch` under the config's estimator, given the k uniformly drawn crops of
 * each image. The embeddings are computed now and enter as constants: gradients reach only P(T|X).
 */
export function policyStepLoss(
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: Pick<TrainConfig, "lambda" | "beta" | "policyEstimator" | "policySelf">,
  cropCount: number,
): PolicyStepLoss {
  if (config.policyEstimator === "exact") return exactLoss(batch, encoder, crops, config, cropCount);
  if (config.policyEstimator === "hybrid") return hybridLoss(batch, encoder, crops, config, cropCount);
  return sampledLoss(batch, encoder, crops, config);
}

/** The sampled estimator: the k drawn crops of each image embedded, and their similarities. */
function sampledLoss(
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: Pick<TrainConfig, "lambda" | "beta" | "policySelf">,
): PolicyStepLoss {
  const n = batch.indices.length, k = crops.length / n;
  const owners = Int32Array.from({ length: n * k }, (_, i) => batch.indices[Math.floor(i / k)]!);
  const sims = tf.tidy(() => {
    const x = tf.tensor4d(extractCrops(batch.ds, owners, crops), [n * k, 20, 20, 1]);
    const z = embed(encoder, x);
    return tf.mul(matMul(z, tf.transpose(z)), config.beta) as Tensor2D;
  });
  return {
    loss: (logProbs) => policyLoss(logProbs, crops, sims, config.lambda, { self: config.policySelf }),
    constants: [sims],
  };
}

/**
 * The exact estimator: every crop of each image embedded in one fully convolutional pass, and
 * the kernels e^{βS} between the crops of each image and against the k drawn crops of every image.
 */
function exactLoss(
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: Pick<TrainConfig, "lambda" | "beta" | "policySelf">,
  cropCount: number,
): PolicyStepLoss {
  const n = batch.indices.length, k = crops.length / n;
  const drawn = Int32Array.from(crops, (c, i) => Math.floor(i / k) * cropCount + c);
  const [ownKernel, otherKernel] = tf.tidy(() => {
    const z = allCropEmbeddings(encoder, batch.images());
    // Image by image: tfjs-wasm's batched product took 2.3× as long (wasm, N = 64, |T| = 289).
    const perImage = tf.unstack(tf.reshape(z, [n, cropCount, z.shape[1]])) as Tensor2D[];
    const own = tf.stack(perImage.map((zi) => matMul(zi, tf.transpose(zi)))) as Tensor3D;
    const other = matMul(z, tf.transpose(tf.gather(z, tf.tensor1d(drawn, "int32"))));
    return [tf.exp(tf.mul(own, config.beta)) as Tensor3D, tf.exp(tf.mul(other, config.beta)) as Tensor2D] as const;
  });
  return {
    loss: (logProbs) =>
      exactPolicyLoss(logProbs, ownKernel, crops, otherKernel, config.lambda, { self: config.policySelf }),
    constants: [ownKernel, otherKernel],
  };
}

/**
 * The hybrid estimator: every crop of each image embedded in one fully convolutional pass; the
 * kernel between each drawn crop and every crop of its image, and the drawn crops' similarities.
 */
function hybridLoss(
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: Pick<TrainConfig, "lambda" | "beta" | "policySelf">,
  cropCount: number,
): PolicyStepLoss {
  const n = batch.indices.length, k = crops.length / n;
  const [ownKernel, sims] = tf.tidy(() => {
    const z = allCropEmbeddings(encoder, batch.images());
    const perImage = tf.unstack(tf.reshape(z, [n, cropCount, z.shape[1]])) as Tensor2D[];
    const drawn = perImage.map((zi, img) =>
      tf.gather(zi, tf.tensor1d(crops.subarray(img * k, (img + 1) * k), "int32"))
    );
    const own = tf.stack(drawn.map((zd, img) => matMul(zd as Tensor2D, tf.transpose(perImage[img]!)))) as Tensor3D;
    const zd = tf.concat(drawn) as Tensor2D;
    return [
      tf.exp(tf.mul(own, config.beta)) as Tensor3D,
      tf.mul(matMul(zd, tf.transpose(zd)), config.beta) as Tensor2D,
    ] as const;
  });
  return {
    loss: (logProbs) => hybridPolicyLoss(logProbs, crops, ownKernel, sims, config.lambda, { self: config.policySelf }),
    constants: [ownKernel, sims],
  };
}
