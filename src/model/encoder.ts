/**
 * The encoder h = g∘f.
 *
 * f (the paper's three-layer CNN; its layer list is lost, so this is our choice):
 * conv 3×3/32 stride 1 → conv 3×3/64 stride 2 → conv 3×3/128 stride 2 (all valid, ReLU) →
 * dense 1152 → 200 (ReLU). On a 20×20 crop the trunk leaves a 3×3×128 map. The convolutions are
 * valid with total stride 4, the crop grid's stride, so the same trunk run over a whole 84×84
 * image leaves a 19×19 map in which the 3×3 window at (i, j) is exactly the trunk's output on
 * crop (i, j): the dense layer applied as a 3×3 convolution then gives f for all 17×17 crops in
 * one pass ({@linkcode allCropFeatures}).
 *
 * g: dense 200 → 200, ReLU, dense 200 → `headDim` (50). h is g's output L2-normalised.
 *
 * @module
 */

import { type Rank, type Tensor2D, type Tensor4D, tf } from "../tf.ts";
import { biasAdd, conv2d, mapBatches, matMul, type Stride } from "../kernels/ops.ts";
import { param, type Params, type ParamSpec } from "./params.ts";

/** Width of f's output. */
export const F_DIM = 200;

const CONVS: readonly { name: string; in: number; out: number; stride: Stride }[] = [
  { name: "f/conv1", in: 1, out: 32, stride: 1 },
  { name: "f/conv2", in: 32, out: 64, stride: 2 },
  { name: "f/conv3", in: 64, out: 128, stride: 2 },
];
const TRUNK_OUT = { side: 3, channels: 128 };
const DENSE_IN = TRUNK_OUT.side * TRUNK_OUT.side * TRUNK_OUT.channels;
// The largest tensor per crop in a training step: conv1's output and conv2's input gradient,
// 18 × 18 × 32 floats.
const CROP_BYTES = 4 * 18 * 18 * 32;

/**
 * The encoder's parameters.
 *
 * @param headDim Width of the projection head's output (50 in the paper; 2 for Fig. 6).
 */
export function encoderSpecs(headDim = 50): ParamSpec[] {
  const layer = (name: string, w: number[]): ParamSpec[] => [
    { name: `${name}/w`, shape: w, init: "he-normal" },
    { name: `${name}/b`, shape: [w.at(-1)!], init: "zeros" },
  ];
  return [
    ...CONVS.flatMap((c) => layer(c.name, [3, 3, c.in, c.out])),
    ...layer("f/dense", [DENSE_IN, F_DIM]),
    ...layer("g/dense1", [F_DIM, F_DIM]),
    ...layer("g/dense2", [F_DIM, headDim]),
  ];
}

function trunk(p: Params, x: Tensor4D): Tensor4D {
  let y = x;
  CONVS.forEach((c, i) => {
    // The first layer's input is data: no gradient needed.
    const z = conv2d(y, param<Tensor4D>(p, `${c.name}/w`), { stride: c.stride, inputGrad: i > 0 });
    y = tf.relu(biasAdd(z, param(p, `${c.name}/b`)));
  });
  return y;
}

function dense(p: Params, name: string, x: Tensor2D): Tensor2D {
  return biasAdd(matMul(x, param<Tensor2D>(p, `${name}/w`)), param(p, `${name}/b`));
}

/**
 * f on crops.
 *
 * @param x Crops `[N,20,20,1]`.
 * @returns `[N,200]`.
 */
export function encodeF(p: Params, x: Tensor4D): Tensor2D {
  if (x.shape[1] !== 20 || x.shape[2] !== 20) {
    throw new RangeError(`encodeF() takes 20×20 crops, got ${x.shape[1]}×${x.shape[2]}`);
  }
  return mapBatches(x, CROP_BYTES, (part) => {
    const t = trunk(p, part);
    return tf.relu(dense(p, "f/dense", tf.reshape(t, [t.shape[0], DENSE_IN])));
  });
}

/**
 * g: the projection head, before normalisation.
 *
 * @param f `[N,200]`.
 * @returns `[N,headDim]`.
 */
export function project(p: Params, f: Tensor2D): Tensor2D {
  return dense(p, "g/dense2", tf.relu(dense(p, "g/dense1", f)));
}

/** Rows scaled to unit L2 norm. */
export function l2Normalize(z: Tensor2D): Tensor2D {
  return tf.mul(z, tf.rsqrt(tf.maximum(tf.sum(tf.square(z), 1, true), 1e-12)));
}

/**
 * h = normalise(g(f(x))): the representation the contrastive objectives compare.
 *
 * @param x Crops `[N,20,20,1]`.
 * @returns `[N,headDim]`, unit rows.
 */
export function embed(p: Params, x: Tensor4D): Tensor2D {
  return l2Normalize(project(p, encodeF(p, x)));
}

/**
 * f for every crop of whole images, in one fully convolutional pass.
 *
 * @param images `[N,S,S,1]` with S = 20 + 4k (84 → 17×17 crops, 28 → 3×3).
 * @returns `[N,P,P,200]`: entry (n, i, j) is f of the crop with corner (4i, 4j).
 */
export function allCropFeatures(p: Params, images: Tensor4D): Tensor4D {
  const { side, channels } = TRUNK_OUT;
  // The largest activation per image: the first layer's output, (S − 2)² × 32 floats.
  const bytes = 4 * (images.shape[1] - 2) ** 2 * CONVS[0]!.out;
  const w = tf.reshape<Rank.R4>(param(p, "f/dense/w"), [side, side, channels, F_DIM]);
  return mapBatches(
    images,
    bytes,
    (part) => tf.relu(tf.add<Tensor4D>(tf.conv2d(trunk(p, part), w, 1, "valid"), param(p, "f/dense/b"))),
  );
}

/**
 * h of every crop of whole images, from one fully convolutional pass.
 *
 * @param images `[N,S,S,1]`.
 * @returns `[N·|T|, headDim]`, unit rows, image n's crops in rows `n·|T| … (n + 1)·|T| − 1`.
 */
export function allCropEmbeddings(p: Params, images: Tensor4D): Tensor2D {
  const f = allCropFeatures(p, images);
  return l2Normalize(project(p, tf.reshape(f, [f.shape[0] * f.shape[1] * f.shape[2], F_DIM]) as Tensor2D));
}
