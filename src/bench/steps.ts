/**
 * The steps `deno task bench` times, on shifted MNIST at the bench's batch sizes: an encoder
 * h-step, a P-step with each estimator (with the forward pass of P(T|X) that training makes to
 * draw crops and the P-step reuses; the loss as the trainer builds it) and all-crop features, each
 * as a function returning its outputs (loss and every gradient, or the features), with the FLOPs
 * it costs.
 *
 * @module
 */

import { PAPER_BETA, type PolicyEstimator, PROFILES } from "../config.ts";
import { type Dataset, datasetCropGrid, renderImages } from "../data/dataset.ts";
import { Prng } from "../data/prng.ts";
import { allCropEmbeddings, encoderSpecs } from "../model/encoder.ts";
import { disposeParams, initialValues, makeParams, type Params } from "../model/params.ts";
import { policySpecs } from "../model/policy.ts";
import { policyForward } from "../model/policy_backward.ts";
import { hStep } from "../objective/hstep.ts";
import { pStep } from "../objective/pstep.ts";
import { type Tensor, type Tensor4D, tf } from "../tf.ts";

/** Crops per image of the h-step and the P-step: the paper's m = k = 8. */
export const CROPS_PER_IMAGE = PROFILES.paper.train.crops;

/** The paper's head width and β on shifted MNIST, which the steps are timed at. */
const HEAD_DIM = PROFILES.paper.train.headDim;
const BETA = PAPER_BETA.shifted;

/** Images per step. */
export interface BenchSizes {
  readonly h: number;
  /** The P-step with the sampled estimator. */
  readonly p: number;
  /** The P-step with the exact-own estimator (smaller where `p` does not fit the wasm backend's memory). */
  readonly exact: number;
  readonly all: number;
}

/** The steps, by name. */
export type StepName = "h_step" | "p_step" | "p_step_exact_own" | "all_crops";

/** Each step's outputs, computed on the current backend. */
export type Steps = Record<StepName, () => Tensor[]>;

/**
 * Steps whose stock baseline the bench does not time on a CPU adapter at the CPU sizes, where it
 * would take most of the bench's time (REPRODUCE.md, "Performance notes"). `--images` times it.
 */
export const SLOW_STOCK_ON_CPU: readonly StepName[] = ["p_step_exact_own"];

// Multiply-adds of one forward pass, from the layer shapes (src/model/encoder.ts, policy.ts).
const ENCODER_CROP_MACS = 18 * 18 * 9 * 32 + 8 * 8 * 9 * 32 * 64 + 3 * 3 * 9 * 64 * 128 + 1152 * 200 +
  200 * 200 + 200 * 50;
const POLICY_IMAGE_MACS = 84 * 84 * 9 * 32 + 84 * 84 * 9 * 32 * 32 + 42 * 42 * 32 * 128 + 128 * 289;
const ALL_CROPS_IMAGE_MACS = 82 * 82 * 9 * 32 + 40 * 40 * 9 * 32 * 64 + 19 * 19 * 9 * 64 * 128 +
  17 * 17 * 1152 * 200 + 289 * (200 * 200 + 200 * 50);
// A training step costs about three forward passes: the forward, and the gradients of the
// inputs and of the weights. (The P-step reuses the forward pass that drew the crops; the stock
// baseline runs it twice, which these counts leave out.)
const TRAIN_FACTOR = 3;

/** Images and GFLOP of each step at `sizes`. */
export function stepWork(sizes: BenchSizes): Record<StepName, { images: number; gflop: number }> {
  const m = CROPS_PER_IMAGE;
  return {
    h_step: { images: sizes.h, gflop: (2 * TRAIN_FACTOR * ENCODER_CROP_MACS * sizes.h * m) / 1e9 },
    p_step: {
      images: sizes.p,
      gflop: (2 * (TRAIN_FACTOR * POLICY_IMAGE_MACS * sizes.p + ENCODER_CROP_MACS * sizes.p * m)) / 1e9,
    },
    // The exact-own estimator embeds every crop (the all-crop pass) and compares the 289 of each image
    // with each other and with the drawn crops of the batch (50-d).
    p_step_exact_own: {
      images: sizes.exact,
      gflop: (2 * (TRAIN_FACTOR * POLICY_IMAGE_MACS * sizes.exact + ALL_CROPS_IMAGE_MACS * sizes.exact +
        50 * 289 * (289 + sizes.exact * m) * sizes.exact)) / 1e9,
    },
    all_crops: { images: sizes.all, gflop: (2 * ALL_CROPS_IMAGE_MACS * sizes.all) / 1e9 },
  };
}

/**
 * The steps on the first images of `ds` with freshly initialised networks, crops drawn from
 * `rng`. `withSteps` makes the networks on the current backend, runs `f`, and frees them:
 * variables are made per backend, since tfjs moves a tensor to another backend by a synchronous
 * read, which tfjs-webgpu does not support under Deno.
 */
export function benchSteps(ds: Dataset, sizes: BenchSizes, rng: Prng) {
  const m = CROPS_PER_IMAGE, t = datasetCropGrid(ds).count;
  const eSpecs = encoderSpecs(HEAD_DIM), pSpecs = policySpecs(ds.side, t);
  const eValues = initialValues(eSpecs, rng), pValues = initialValues(pSpecs, rng);
  const indices = (n: number) => Array.from({ length: n }, (_, i) => i);
  const cropsOf = (n: number) => ({
    owners: indices(n * m).map((i) => Math.floor(i / m)),
    crops: indices(n * m).map(() => rng.nextInt(t)),
  });
  const hCrops = cropsOf(sizes.h);
  const pStepInput = (n: number) => ({ n, images: renderImages(ds, indices(n)) });
  // Every timed P-step draws the same uniform crops, so that backends compare on one input.
  const pStepDraws = rng.state();
  const sampled = pStepInput(sizes.p);
  const exact = sizes.exact === sizes.p ? sampled : pStepInput(sizes.exact);
  const allImages = renderImages(ds, indices(sizes.all));
  const side = ds.side;
  const { lambda, policySelf } = PROFILES.paper.train;

  const timedPStep = (encoder: Params, policy: Params, policyEstimator: PolicyEstimator): Tensor[] => {
    const { n, images: pixels } = policyEstimator === "exact-own" ? exact : sampled;
    const images = tf.tensor4d(pixels, [n, side, side, 1]) as Tensor4D;
    const batch = { ds, indices: indices(n), images: () => images };
    // The forward pass the trainer makes to draw crops, and the P-step, which reuses it.
    const forward = policyForward(policy, images);
    const config = { policyCrops: m, lambda, beta: BETA, policyEstimator, policySelf };
    const p = pStep(policy, forward, batch, encoder, Prng.fromState(pStepDraws), config, t);
    // The loss's parts are kept past any tf.tidy (the trainer reads them later): free them here.
    forward.dispose();
    tf.dispose([p.objective, p.entropy]);
    return [p.loss, ...Object.values(p.grads)];
  };
  const makeSteps = (encoder: Params, policy: Params): Steps => ({
    h_step: () => {
      const h = hStep(encoder, ds, hCrops.owners, hCrops.crops, m, BETA);
      return [h.loss, ...Object.values(h.grads)];
    },
    p_step: () => timedPStep(encoder, policy, "sampled"),
    p_step_exact_own: () => timedPStep(encoder, policy, "exact-own"),
    all_crops: () => [allCropEmbeddings(encoder, tf.tensor4d(allImages, [sizes.all, side, side, 1]))],
  });
  return async <T>(f: (steps: Steps) => Promise<T>): Promise<T> => {
    const encoder = makeParams(eSpecs, eValues), policy = makeParams(pSpecs, pValues);
    try {
      return await f(makeSteps(encoder, policy));
    } finally {
      disposeParams(encoder);
      disposeParams(policy);
    }
  };
}
