/**
 * The crop distribution P(T|X), as in the paper: conv 32 – ReLU – conv 32 – ReLU – average pool 2
 * – FC 128 – (ReLU) – FC |T|, softmax. The convolutions are 3×3 with zero padding ("same"), so an
 * 84×84 image gives a 42×42×32 map (56,448 inputs to FC 128); 28×28 gives 14×14×32.
 *
 * All weights are He-normal and all biases zero, as in the encoder (see ../model/params.ts). P(T|X)
 * then starts close to uniform (entropy 5.66 of the maximal 5.67 nats on shifted MNIST) but not
 * exactly: measured on 2,048 shifted images, batch 64, seed 0, a zero-initialised last layer
 * (exactly uniform start) left P's mass on non-empty crops at the uniform 0.17 after 25 iterations
 * — the encoder collapsed onto the empty crop first and P never got a signal — while He-normal
 * moved it to 0.70 after 27.
 *
 * @module
 */

import { Rank, type Tensor2D, type Tensor4D, tf } from "../tf.ts";
import { avgPool2, biasAdd, conv2d, mapBatches, matMul } from "./ops.ts";
import { param, type Params, type ParamSpec } from "./params.ts";

const CHANNELS = 32;
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
 * log P(t|x) for every crop.
 *
 * @param images `[N,S,S,1]`.
 * @returns `[N,|T|]`, each row a log-distribution.
 */
export function policyLogProbs(p: Params, images: Tensor4D): Tensor2D {
  const conv = (x: Tensor4D, name: string, inputGrad: boolean) => {
    const y = conv2d(x, param<Tensor4D>(p, `${name}/w`), { stride: 1, padding: "same", inputGrad });
    return tf.relu(biasAdd(y, param(p, `${name}/b`)));
  };
  const dense = (x: Tensor2D, name: string) =>
    biasAdd(matMul(x, param<Tensor2D>(p, `${name}/w`)), param(p, `${name}/b`));
  // The largest tensor per image: conv2's padded input seen with the batch as channels by the
  // filter gradient, (S + 2)² × 32 floats.
  const bytes = 4 * (images.shape[1] + 2) ** 2 * CHANNELS;
  const logits = mapBatches(images, bytes, (part) => {
    const h = avgPool2(conv(conv(part, "p/conv1", false), "p/conv2", true));
    const flat = tf.reshape<Rank.R2>(h, [h.shape[0], -1]);
    return dense(tf.relu(dense(flat, "p/fc1")), "p/fc2");
  });
  return tf.logSoftmax(logits);
}
