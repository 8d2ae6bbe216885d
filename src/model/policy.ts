/**
 * The crop distribution P(T|X), as in the paper: conv 32 – ReLU – conv 32 – ReLU – average pool 2
 * – FC 128 – (ReLU) – FC |T|, softmax. The convolutions are 3×3 with zero padding ("same"), so an
 * 84×84 image gives a 42×42×32 map (56,448 inputs to FC 128); 28×28 gives 14×14×32.
 *
 * All weights are He-normal and all biases zero, as in the encoder (see ../model/params.ts). P(T|X)
 * then starts close to uniform (entropy 5.66 of the maximal 5.67 nats on shifted MNIST) but not
 * exactly: an exactly uniform start (a zero last layer) let the encoder collapse onto the empty
 * crop before P got a signal (REPRODUCE.md, "Initialisation decides whether anything learns").
 *
 * A batch goes through in passes that fit the backends' memory (../kernels/passes.ts); the
 * P-step's backward pass, written by hand from the saved activations, is ./policy_backward.ts.
 *
 * @module
 */

import { avgPool2, biasAdd, conv2d, matMul } from "../kernels/ops.ts";
import { eachPass, imagesPerPass, joinRows } from "../kernels/passes.ts";
import { type Rank, type Tensor2D, type Tensor4D, tf } from "../tf.ts";
import { param, type Params, type ParamSpec } from "./params.ts";

/** Channels of both convolutions. */
export const CHANNELS = 32;
const HIDDEN = 128;

/**
 * The parameters of P(T|X).
 *
 * @param imageSide Input side (84 or 28; must be even).
 * @param cropCount |T|, the number of crops (289 or 9).
 */
export function policySpecs(imageSide: number, cropCount: number): ParamSpec[] {
  if (imageSide % 2 !== 0) throw new RangeError(`P(T|X) needs an even image side, got ${imageSide}`);
  const flat = (imageSide / 2) ** 2 * CHANNELS;
  return [
    { name: "p/conv1/w", shape: [3, 3, 1, CHANNELS], init: "he-normal" },
    { name: "p/conv1/b", shape: [CHANNELS], init: "zeros" },
    { name: "p/conv2/w", shape: [3, 3, CHANNELS, CHANNELS], init: "he-normal" },
    { name: "p/conv2/b", shape: [CHANNELS], init: "zeros" },
    { name: "p/fc1/w", shape: [flat, HIDDEN], init: "he-normal" },
    { name: "p/fc1/b", shape: [HIDDEN], init: "zeros" },
    { name: "p/fc2/w", shape: [HIDDEN, cropCount], init: "he-normal" },
    { name: "p/fc2/b", shape: [cropCount], init: "zeros" },
  ];
}

/**
 * The most images of side `side` one pass of P(T|X) takes: 74 at 84×84, 668 at 28×28, so a smoke
 * batch of 64 is one pass and the paper's 256 are four of 64. An image is counted as 16 maps of
 * side² × 32 floats, above what a P-step holds (REPRODUCE.md, "Memory of a P-step").
 */
export function policyImagesPerPass(side: number): number {
  return imagesPerPass(16 * side * side * CHANNELS * 4);
}

/** What the backward pass of one pass reads: its images and each layer's output. */
export interface PolicyActivations {
  /** A copy of the pass's images, `[n,S,S,1]`. */
  readonly images: Tensor4D;
  /** relu(conv1), `[n,S,S,32]`. */
  readonly a1: Tensor4D;
  /** relu(conv2), `[n,S,S,32]`. */
  readonly a2: Tensor4D;
  /** avgPool(a2) flattened, `[n,(S/2)²·32]`. */
  readonly pooled: Tensor2D;
  /** relu(fc1), `[n,128]`. */
  readonly a3: Tensor2D;
}

/** The network on one pass of images: its logits and every layer's output. */
export function passForward(p: Params, images: Tensor4D): { logits: Tensor2D; activations: PolicyActivations } {
  const conv = (x: Tensor4D, name: string, inputGrad: boolean) => {
    const y = conv2d(x, param<Tensor4D>(p, `${name}/w`), { stride: 1, padding: "same", inputGrad });
    return tf.relu(biasAdd(y, param(p, `${name}/b`)));
  };
  const dense = (x: Tensor2D, name: string) =>
    biasAdd(matMul(x, param<Tensor2D>(p, `${name}/w`)), param(p, `${name}/b`));
  const a1 = conv(images, "p/conv1", false);
  const a2 = conv(a1, "p/conv2", true);
  const h = avgPool2(a2);
  const pooled = tf.reshape<Rank.R2>(h, [h.shape[0], -1]);
  const a3 = tf.relu(dense(pooled, "p/fc1"));
  return { logits: dense(a3, "p/fc2"), activations: { images, a1, a2, pooled, a3 } };
}

/**
 * P(T|X)'s logits, one pass of {@linkcode policyImagesPerPass} images at a time.
 *
 * @param images `[N,S,S,1]`.
 * @param perPass Images per pass. @default policyImagesPerPass(S)
 * @returns `[N,|T|]`.
 */
export function policyLogits(
  p: Params,
  images: Tensor4D,
  perPass: number = policyImagesPerPass(images.shape[1]),
): Tensor2D {
  return joinRows(eachPass(images, perPass, (part) => passForward(p, part).logits));
}

/** P(t|x) from {@linkcode policyLogits}: `[N,|T|]`, each row a distribution. */
export function policyProbs(logits: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.exp(tf.logSoftmax(logits)));
}

/**
 * log P(t|x) for every crop.
 *
 * @param images `[N,S,S,1]`.
 * @returns `[N,|T|]`, each row a log-distribution.
 */
export function policyLogProbs(p: Params, images: Tensor4D): Tensor2D {
  return tf.tidy(() => tf.logSoftmax(policyLogits(p, images)));
}
