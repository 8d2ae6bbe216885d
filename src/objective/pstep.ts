/**
 * The crop distribution's objective (P-step): the paper's objective (2) with crops weighted by
 * P(t|x), plus λ·H(T|X). Only P(T|X) receives gradients: the embeddings are computed beforehand
 * and enter as constants. Three estimators of (2), chosen by `TrainConfig.policyEstimator` and
 * named by what they compute exactly: of (2)'s three expectations (the outer one over T|X, the
 * numerator's over T'|X, the denominator's over X', T''), "sampled" estimates all three from k
 * uniformly drawn crops per image, "exact-own" computes the outer one and the numerator's, both
 * over the image's own crops, exactly, and "exact-numerator" only the numerator's.
 *
 * **sampled** ({@linkcode sampledPolicyLoss}): N images × k crops drawn uniformly; image n's crops get
 * self-normalised weights wᵢ = P(tᵢ|xₙ) / Σ_{j ∈ n} P(tⱼ|xₙ), the importance weights of P against
 * the uniform draw. With sᵢⱼ = β zᵢᵀzⱼ, sample i of image n(i) scores
 *
 *   numᵢ = log Σ_{j ∈ n(i), j ≠ i} wⱼ e^{sᵢⱼ} / Σ_{j ∈ n(i), j ≠ i} wⱼ         (log E_{T'|X} e^{βS})
 *   denᵢ = log 1/N ( Σ_{k ∉ n(i)} wₖ e^{sᵢₖ} + e^{numᵢ} )                     (log E_{X',T''} e^{βS})
 *
 * and I = 1/N Σᵢ wᵢ (numᵢ − denᵢ). By default the sample itself is left out of its numerator
 * (and so of the own image's share of the denominator); with `self` it is kept, as objective (2)
 * has it: numᵢ = log Σ_{j ∈ n(i)} wⱼ e^{sᵢⱼ}, whose weights sum to 1.
 *
 * **exact-own** ({@linkcode exactOwnPolicyLoss}): every crop t of each image, with its exact probability
 * pₙₜ = P(t|xₙ), in the outer expectation and in the numerator; the denominator's other images
 * through k uniformly drawn crops each, weighted as in the sampled estimator (an expectation over
 * every crop of every image would take [N·|T|, N·|T|] similarities: 1.4 GB at N = 64). With
 * sₙₜ,ₘᵤ = β zₙₜᵀzₘᵤ,
 *
 *   Aₙₜ = log Σ_{u ≠ t} pₙᵤ e^{sₙₜ,ₙᵤ} / Σ_{u ≠ t} pₙᵤ     (with `self`: log Σ_u pₙᵤ e^{sₙₜ,ₙᵤ})
 *   Dₙₜ = log 1/N ( Σ_{m ≠ n} Σ_{j ∈ m} wⱼ e^{sₙₜ,ⱼ} + e^{Aₙₜ} )
 *   I  = 1/N Σₙ Σₜ pₙₜ (Aₙₜ − Dₙₜ).
 *
 * **exact-numerator** ({@linkcode exactNumeratorPolicyLoss}): the sampled estimator's k uniform crops, weights and
 * denominator, with the numerator of each drawn crop i (crop tᵢ of image n) taken over every crop
 * of its image as in the exact-own one,
 *
 *   numᵢ = log Σ_{u ≠ tᵢ} pₙᵤ e^{β zᵢᵀzₙᵤ} / Σ_{u ≠ tᵢ} pₙᵤ     (with `self`: log Σ_u pₙᵤ e^{β zᵢᵀzₙᵤ}).
 *
 * The sampled numerator renormalises P over the image's other drawn crops, most of them empty
 * (5 in 6 crops are), so it measures agreement with blank crops however little mass P gives them;
 * this one measures agreement with the crops P actually chooses.
 *
 * All three weigh each image by 1 (its weights sum to 1), so λ means the same in all. With
 * H(T|X) = mean over images of −Σ_t P(t|x) log P(t|x) over all |T| crops, the loss is −I − λH.
 *
 * {@linkcode pStep} is the whole step: it draws the k uniform crops of each image, embeds them
 * (constants: gradients reach only P(T|X)), builds the config's estimator and returns the loss,
 * its parts and P(T|X)'s gradients, which the trainer applies with Adam (src/train/crop_policy.ts).
 *
 * @module
 */

import { type Scalar, type Tensor, type Tensor2D, type Tensor3D, type Tensor4D, tf } from "../tf.ts";
import type { PolicyEstimator } from "../config.ts";
import { CROP_SIDE } from "../data/crops.ts";
import { type Dataset, extractCrops } from "../data/dataset.ts";
import type { Prng } from "../data/prng.ts";
import { matMul } from "../kernels/ops.ts";
import { allCropEmbeddings, embed } from "../model/encoder.ts";
import type { Params } from "../model/params.ts";
import { type PolicyForward, policyGrads } from "../model/policy_backward.ts";
import type { StepGrads } from "./hstep.ts";
import { blockMask, groupMasks, maskedLogSumExp } from "./masks.ts";

/** The P-step loss and its parts, as scalars. */
export type PolicyLoss = {
  /** −I − λH, the quantity minimised. */
  readonly loss: Scalar;
  /** I, the weighted objective (2). */
  readonly objective: Scalar;
  /** H(T|X) in nats. */
  readonly entropy: Scalar;
};

/** Options shared by the three estimators. */
export interface PolicyLossOptions {
  /** Keep each crop's own term in its numerator, as objective (2) has it. @default false */
  readonly self?: boolean;
}

/** The images a P-step is taken on. */
export interface Batch {
  /** The dataset the indices point into. */
  readonly ds: Dataset;
  /** Dataset indices. */
  readonly indices: readonly number[];
  /** The images as `[N,S,S,1]` (only the exact-own and exact-numerator estimators read them). */
  images(): Tensor4D;
}

/** What the P-step depends on besides the data: k, λ, β, the estimator, and the own term. */
export interface PolicyStepConfig {
  /** k, the crops per image drawn uniformly. */
  readonly policyCrops: number;
  /** λ, the weight of H(T|X) in the P-step's objective. */
  readonly lambda: number;
  /** β, the inverse temperature of the similarities. */
  readonly beta: number;
  /** Which estimator of objective (2) the loss uses. */
  readonly policyEstimator: PolicyEstimator;
  /** Whether a crop's own term stays in its numerator, as objective (2) has it. */
  readonly policySelf: boolean;
}

/** The P-step's result: its loss −I − λH, the parts of it, and P(T|X)'s gradients. */
export interface PolicyStepGrads extends PolicyLoss, StepGrads {}

/**
 * The P-step on `batch`, from P(T|X)'s forward pass on it (its parameters unchanged since): draws
 * `config.policyCrops` uniform crops per image from `rng` (`N × k`, image by image), and returns
 * the loss under the config's estimator and P(T|X)'s gradients; the caller applies and frees them.
 */
export function pStep(
  policy: Params,
  forward: PolicyForward,
  batch: Batch,
  encoder: Params,
  rng: Prng,
  config: PolicyStepConfig,
  cropCount: number,
): PolicyStepGrads {
  const crops = Int32Array.from({ length: batch.indices.length * config.policyCrops }, () => rng.nextInt(cropCount));
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

/**
 * The sampled estimator's P-step loss.
 *
 * @param logProbs log P(t|x) for all crops, `[N,|T|]` (differentiable).
 * @param crops The k uniformly drawn crop indices of each image, `N × k` row-major.
 * @param sims β zᵢᵀzⱼ between the `N·k` drawn crops, `[N·k, N·k]`, image n's crops in rows
 *   `n·k … n·k + k − 1` (a constant).
 * @param lambda Weight λ of the entropy term.
 */
export function sampledPolicyLoss(
  logProbs: Tensor2D,
  crops: Int32Array,
  sims: Tensor2D,
  lambda: number,
  options: PolicyLossOptions = {},
): PolicyLoss {
  const n = logProbs.shape[0];
  const k = crops.length / n;
  if (!(Number.isInteger(k) && k >= 2 && n >= 2 && sims.shape[0] === n * k)) {
    throw new RangeError(
      `sampledPolicyLoss() needs k ≥ 2 crops of N ≥ 2 images and [N·k, N·k] similarities; got N = ${n}, ` +
        `${crops.length} crops, similarities [${sims.shape}]`,
    );
  }
  return tf.tidy(() => {
    const { self, same, other } = groupMasks(n, k);
    const logW = tf.reshape(drawnLogWeights(logProbs, crops, k), [1, n * k]) as Tensor2D;
    const weighted = tf.add(sims, logW) as Tensor2D; // row i, column j: log wⱼ + sᵢⱼ
    // With the sample kept, an image's weights sum to 1 and need no renormalisation.
    const num = options.self
      ? maskedLogSumExp(weighted, tf.add(same, self))
      : tf.sub(maskedLogSumExp(weighted, same), maskedLogSumExp(tf.mul(tf.onesLike(sims), logW) as Tensor2D, same));
    const den = sampledDenominator(weighted, other, num, n);
    return estimate(tf.exp(tf.reshape(logW, [n * k, 1])), num, den, n, logProbs, lambda);
  });
}

/**
 * The exact-own estimator's P-step loss.
 *
 * Written with the kernels e^{βS} rather than in log space: β·S lies in [−β, β] for unit
 * embeddings, so nothing overflows, and the sums over crops become products of a constant
 * kernel with P, whose gradients are products again (on wasm the log-space form's broadcast
 * gradients were far slower; REPRODUCE.md, "Choices the paper leaves open").
 *
 * @param logProbs log P(t|x) for all crops, `[N,|T|]` (differentiable).
 * @param ownKernel e^{β zₙₜᵀzₙᵤ} between every two crops of each image, `[N,|T|,|T|]` (a constant).
 * @param crops The denominator's k uniformly drawn crop indices of each image, `N × k` row-major.
 * @param otherKernel e^{β zₙₜᵀzⱼ} between every crop of every image (rows `n·|T| + t`) and the
 *   drawn crops (columns `m·k + j`), `[N·|T|, N·k]` (a constant; the own image's columns are
 *   not read).
 * @param lambda Weight λ of the entropy term.
 */
export function exactOwnPolicyLoss(
  logProbs: Tensor2D,
  ownKernel: Tensor3D,
  crops: Int32Array,
  otherKernel: Tensor2D,
  lambda: number,
  options: PolicyLossOptions = {},
): PolicyLoss {
  const [n, cropCount] = logProbs.shape;
  const k = crops.length / n;
  const shapeOk = ownKernel.shape.join() === [n, cropCount, cropCount].join() &&
    otherKernel.shape.join() === [n * cropCount, n * k].join();
  if (!(Number.isInteger(k) && k >= 1 && n >= 2 && shapeOk)) {
    throw new RangeError(
      `exactOwnPolicyLoss() needs N ≥ 2 images, k ≥ 1 drawn crops each, [N,|T|,|T|] and [N·|T|, N·k] ` +
        `kernels; got log P [${logProbs.shape}], ${crops.length} crops, [${ownKernel.shape}], [${otherKernel.shape}]`,
    );
  }
  return tf.tidy(() => {
    const p = tf.exp(logProbs);
    const kernel = options.self ? ownKernel : tf.mul(ownKernel, tf.sub(1, tf.eye(cropCount)));
    // Σᵤ pₙᵤ Kₙₜᵤ for every (n, t): [N,|T|,|T|] × [N,|T|,1].
    const weightedSum = tf.reshape(tf.matMul(kernel, tf.reshape(p, [n, cropCount, 1])), [n, cropCount]);
    const ownMean = options.self ? weightedSum : tf.div(weightedSum, othersMass(p));
    const w = tf.exp(tf.reshape(drawnLogWeights(logProbs, crops, k), [n * k, 1]));
    const rest = tf.matMul(tf.mul(otherKernel, blockMask(n, cropCount, k)), w);
    const a = tf.log(ownMean);
    const d = tf.log(tf.div(tf.add(tf.reshape(rest, [n, cropCount]), ownMean), n));
    return estimate(p, a, d, n, logProbs, lambda);
  });
}

/**
 * The exact-numerator estimator's P-step loss.
 *
 * @param logProbs log P(t|x) for all crops, `[N,|T|]` (differentiable).
 * @param crops The k uniformly drawn crop indices of each image, `N × k` row-major.
 * @param ownKernel e^{β zᵢᵀzₙᵤ} between each drawn crop i of image n and every crop u of that
 *   image, `[N,k,|T|]` (a constant).
 * @param sims β zᵢᵀzⱼ between the `N·k` drawn crops, `[N·k, N·k]` (a constant), as
 *   {@linkcode sampledPolicyLoss} takes them.
 * @param lambda Weight λ of the entropy term.
 */
export function exactNumeratorPolicyLoss(
  logProbs: Tensor2D,
  crops: Int32Array,
  ownKernel: Tensor3D,
  sims: Tensor2D,
  lambda: number,
  options: PolicyLossOptions = {},
): PolicyLoss {
  const [n, cropCount] = logProbs.shape;
  const k = crops.length / n;
  const shapeOk = ownKernel.shape.join() === [n, k, cropCount].join() && sims.shape.join() === [n * k, n * k].join();
  if (!(Number.isInteger(k) && k >= 2 && n >= 2 && shapeOk)) {
    throw new RangeError(
      `exactNumeratorPolicyLoss() needs k ≥ 2 crops of N ≥ 2 images, an [N,k,|T|] kernel and [N·k, N·k] similarities; ` +
        `got log P [${logProbs.shape}], ${crops.length} crops, [${ownKernel.shape}], [${sims.shape}]`,
    );
  }
  return tf.tidy(() => {
    const { other } = groupMasks(n, k);
    const p = tf.reshape(tf.exp(logProbs), [n, cropCount, 1]) as Tensor3D;
    // 1 on every crop of the image but the drawn one itself.
    const notSelf = tf.sub(1, tf.oneHot(tf.tensor2d(crops, [n, k], "int32"), cropCount)) as Tensor3D;
    const kernel = options.self ? ownKernel : tf.mul(ownKernel, notSelf);
    const weightedSum = tf.reshape(tf.matMul(kernel, p), [n * k, 1]);
    const ownMean = options.self ? weightedSum : tf.div(weightedSum, tf.reshape(tf.matMul(notSelf, p), [n * k, 1]));
    const num = tf.log(ownMean);
    const logW = tf.reshape(drawnLogWeights(logProbs, crops, k), [1, n * k]) as Tensor2D;
    const den = sampledDenominator(tf.add(sims, logW) as Tensor2D, other, num, n);
    return estimate(tf.exp(tf.reshape(logW, [n * k, 1])), num, den, n, logProbs, lambda);
  });
}

/**
 * Σ_{u ≠ t} pₙᵤ for every (n, t), `[N,|T|]`, summed term by term: 1 − pₙₜ would lose its
 * precision to cancellation as pₙₜ nears 1.
 */
function othersMass(p: Tensor2D): Tensor2D {
  const cropCount = p.shape[1];
  return tf.matMul(p, tf.sub(tf.ones([cropCount, cropCount]), tf.eye(cropCount)));
}

/**
 * log wᵢ of the drawn crops, `[N,k]`: log P of each, self-normalised within its image. Read
 * through a one-hot product: tf.gather's gradient needs UnsortedSegmentSum, which the wasm
 * backend lacks.
 */
function drawnLogWeights(logProbs: Tensor2D, crops: Int32Array, k: number): Tensor2D {
  const [n, cropCount] = logProbs.shape;
  const picked = tf.oneHot(tf.tensor2d(crops, [n, k], "int32"), cropCount);
  const logP = tf.sum(tf.mul(picked, tf.expandDims(logProbs, 1)), 2) as Tensor2D;
  return tf.sub(logP, tf.logSumExp(logP, 1, true));
}

/**
 * denᵢ of the sampled and exact-numerator estimators, `[N·k, 1]`: log 1/N (Σ_{k ∉ n(i)} wₖ e^{sᵢₖ} + e^{numᵢ}).
 *
 * @param weighted log wⱼ + sᵢⱼ between the drawn crops, `[N·k, N·k]`.
 * @param other 1 where j belongs to another image than i.
 */
function sampledDenominator(weighted: Tensor2D, other: Tensor2D, num: Tensor, n: number): Tensor {
  return tf.sub(tf.logSumExp(tf.concat([maskedLogSumExp(weighted, other), num], 1), 1, true), Math.log(n));
}

/**
 * The ending every estimator shares: I = 1/N Σ weight · (num − den) over its outer samples, H(T|X)
 * over all crops, and the loss −I − λH.
 */
function estimate(
  weights: Tensor,
  num: Tensor,
  den: Tensor,
  n: number,
  logProbs: Tensor2D,
  lambda: number,
): PolicyLoss {
  const objective = tf.div(tf.sum(tf.mul(weights, tf.sub(num, den))), n) as Scalar;
  // H(T|X) differentiable in log P; src/data/crop_stats.ts's meanEntropy on the host.
  const entropy = tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1))) as Scalar;
  return { loss: tf.neg(tf.add(objective, tf.mul(entropy, lambda))) as Scalar, objective, entropy };
}

/** A P-step loss of log P(t|x) and the constant tensors it reads, which the caller frees after the step. */
interface LossOf {
  loss(logProbs: Tensor2D): PolicyLoss;
  readonly constants: Tensor[];
}

/**
 * The P-step's loss on `batch` under the config's estimator, given the k uniformly drawn crops of
 * each image. The embeddings are computed now and enter as constants: gradients reach only P(T|X).
 */
function policyStepLoss(
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: PolicyStepConfig,
  cropCount: number,
): LossOf {
  if (config.policyEstimator === "exact-own") return exactOwnLoss(batch, encoder, crops, config, cropCount);
  if (config.policyEstimator === "exact-numerator") return exactNumeratorLoss(batch, encoder, crops, config, cropCount);
  return sampledLoss(batch, encoder, crops, config);
}

/** The sampled estimator: the k drawn crops of each image embedded, and their similarities. */
function sampledLoss(
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: Omit<PolicyStepConfig, "policyEstimator">,
): LossOf {
  const n = batch.indices.length, k = crops.length / n;
  const owners = Int32Array.from({ length: n * k }, (_, i) => batch.indices[Math.floor(i / k)]!);
  const sims = tf.tidy(() => {
    const x = tf.tensor4d(extractCrops(batch.ds, owners, crops), [n * k, CROP_SIDE, CROP_SIDE, 1]);
    const z = embed(encoder, x);
    return tf.mul(matMul(z, tf.transpose(z)), config.beta) as Tensor2D;
  });
  return {
    loss: (logProbs) => sampledPolicyLoss(logProbs, crops, sims, config.lambda, { self: config.policySelf }),
    constants: [sims],
  };
}

/** A P-step loss built from every crop of each image: the batch, the encoder, the k drawn crops, the config, |T|. */
type AllCropLoss = (
  batch: Batch,
  encoder: Params,
  crops: Int32Array,
  config: Omit<PolicyStepConfig, "policyEstimator">,
  cropCount: number,
) => LossOf;

/**
 * Every crop of each image of the batch embedded in one fully convolutional pass: `z`
 * `[n·|T|, d]`, and its rows image by image (tfjs-wasm's batched products over images were slower
 * than one product per image). Call inside `tf.tidy`.
 */
function cropEmbeddingsByImage(batch: Batch, encoder: Params, cropCount: number) {
  const z = allCropEmbeddings(encoder, batch.images());
  const perImage = tf.unstack(tf.reshape(z, [batch.indices.length, cropCount, z.shape[1]])) as Tensor2D[];
  return { z, perImage };
}

/**
 * The exact-own estimator: every crop of each image embedded in one fully convolutional pass, and
 * the kernels e^{βS} between the crops of each image and against the k drawn crops of every image.
 */
const exactOwnLoss: AllCropLoss = (batch, encoder, crops, config, cropCount) => {
  const k = crops.length / batch.indices.length;
  const drawn = Int32Array.from(crops, (c, i) => Math.floor(i / k) * cropCount + c);
  const [ownKernel, otherKernel] = tf.tidy(() => {
    const { z, perImage } = cropEmbeddingsByImage(batch, encoder, cropCount);
    const own = tf.stack(perImage.map((zi) => matMul(zi, tf.transpose(zi)))) as Tensor3D;
    const other = matMul(z, tf.transpose(tf.gather(z, tf.tensor1d(drawn, "int32"))));
    return [tf.exp(tf.mul(own, config.beta)) as Tensor3D, tf.exp(tf.mul(other, config.beta)) as Tensor2D] as const;
  });
  return {
    loss: (logProbs) =>
      exactOwnPolicyLoss(logProbs, ownKernel, crops, otherKernel, config.lambda, { self: config.policySelf }),
    constants: [ownKernel, otherKernel],
  };
};

/**
 * The exact-numerator estimator: every crop of each image embedded in one fully convolutional pass; the
 * kernel between each drawn crop and every crop of its image, and the drawn crops' similarities.
 */
const exactNumeratorLoss: AllCropLoss = (batch, encoder, crops, config, cropCount) => {
  const k = crops.length / batch.indices.length;
  const [ownKernel, sims] = tf.tidy(() => {
    const { perImage } = cropEmbeddingsByImage(batch, encoder, cropCount);
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
    loss: (logProbs) =>
      exactNumeratorPolicyLoss(logProbs, crops, ownKernel, sims, config.lambda, { self: config.policySelf }),
    constants: [ownKernel, sims],
  };
};
