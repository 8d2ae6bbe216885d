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
 * @module
 */

import { type Rank, type Scalar, type Tensor, type Tensor2D, type Tensor4D, type TensorContainer, tf } from "../tf.ts";
import {
  avgPool2,
  avgPool2Grad,
  biasAdd,
  biasGrad,
  conv2d,
  conv2dGrads,
  matMul,
  matMulGrads,
  reluGrad,
  usingStockKernels,
} from "./ops.ts";
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
 * Bytes per image that a training pass of P(T|X) holds, at most: measured, a P-step on 64 84×84
 * images differentiated by tfjs's tape peaked at 878 MB on wasm (13.7 MB per image, 15 maps of
 * side² × 32 floats; {@linkcode policyGrads} holds fewer); 16 such maps leave a margin.
 */
function passBytesPerImage(side: number): number {
  return 16 * side * side * CHANNELS * 4;
}

/**
 * Memory a pass of P(T|X) may hold. tfjs's wasm heap ends at 4 GiB: a P-step on 256 84×84 images
 * at once (the paper profile's batch) aborted there, 192 did not.
 */
const PASS_BYTES = 2 ** 30;

/**
 * The most images of side `side` one pass of P(T|X) takes: 74 at 84×84, 668 at 28×28, so a smoke
 * batch of 64 is one pass and the paper's 256 are four of 64.
 */
export function policyImagesPerPass(side: number): number {
  return Math.max(1, Math.floor(PASS_BYTES / passBytesPerImage(side)));
}

/** The batch cut into passes of at most `perPass` images, as `[start, size]`, all but the last of one size. */
export function policyPasses(n: number, perPass: number): [number, number][] {
  const count = Math.ceil(n / perPass);
  const size = Math.ceil(n / count);
  return Array.from({ length: count }, (_, i) => [i * size, Math.min(size, n - i * size)]);
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

// The network on one pass. One map of a pass is at most PASS_BYTES / 16 = 64 MiB, within the
// smallest storage-buffer binding WebGPU allows (128 MiB), so only the convolutions, whose
// gradients build larger tensors, split the batch further (src/model/ops.ts).
function passForward(p: Params, images: Tensor4D): { logits: Tensor2D; activations: PolicyActivations } {
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
 * The gradients of Σ logits ⊙ `dLogits` for the parameters, from a pass's activations: the
 * gradients tfjs's tape would compute ({@linkcode passForward} under `tf.variableGrads`), the
 * same kernels in the same order, without running the forward pass again.
 */
function passBackward(p: Params, a: PolicyActivations, dLogits: Tensor2D): Record<string, Tensor> {
  return tf.tidy(() => {
    const w = (name: string) => param<Tensor2D>(p, name);
    const grads: Record<string, Tensor> = {};
    const [da3, dW4] = matMulGrads(a.a3, w("p/fc2/w"), dLogits);
    Object.assign(grads, { "p/fc2/w": dW4, "p/fc2/b": biasGrad(dLogits) });
    const dz3 = reluGrad(da3, a.a3);
    const [dPooled, dW3] = matMulGrads(a.pooled, w("p/fc1/w"), dz3);
    Object.assign(grads, { "p/fc1/w": dW3, "p/fc1/b": biasGrad(dz3) });
    const [n, side] = a.a2.shape;
    const pooledShape: [number, number, number, number] = [n, side / 2, side / 2, CHANNELS];
    const dz2 = reluGrad(avgPool2Grad(tf.reshape(dPooled, pooledShape)), a.a2);
    const conv = { stride: 1, padding: "same" } as const;
    const c2 = conv2dGrads(a.a1, param<Tensor4D>(p, "p/conv2/w"), dz2, conv);
    Object.assign(grads, { "p/conv2/w": c2.filter, "p/conv2/b": biasGrad(dz2) });
    const dz1 = reluGrad(c2.input!, a.a1);
    const c1 = conv2dGrads(a.images, param<Tensor4D>(p, "p/conv1/w"), dz1, { ...conv, inputGrad: false });
    Object.assign(grads, { "p/conv1/w": c1.filter, "p/conv1/b": biasGrad(dz1) });
    return Object.fromEntries([...p.keys()].map((name) => [name, grads[name]!]));
  });
}

function slice<T extends Tensor>(x: T, start: number, size: number): T {
  return tf.slice(x, [start, ...x.shape.slice(1).map(() => 0)], [size, ...x.shape.slice(1).map(() => -1)]);
}

/**
 * P(T|X)'s forward pass over a batch, one pass of {@linkcode policyImagesPerPass} images at a
 * time: the logits, and what {@linkcode policyGrads} reads to differentiate without running it
 * again. Free it with `dispose`.
 */
export interface PolicyForward {
  /** `[N,|T|]`. */
  readonly logits: Tensor2D;
  /** Each pass's images and activations. */
  readonly passes: readonly PolicyActivations[];
  /** Frees the logits and every pass's activations (the caller's images stay). */
  dispose(): void;
}

/**
 * {@linkcode PolicyForward} of `images`.
 *
 * @param images `[N,S,S,1]`.
 * @param perPass Images per pass. @default policyImagesPerPass(S)
 */
export function policyForward(
  p: Params,
  images: Tensor4D,
  perPass: number = policyImagesPerPass(images.shape[1]),
): PolicyForward {
  const passes = eachPass(images, perPass, (part) => {
    const { logits, activations } = passForward(p, part);
    // A copy, so that disposing the forward pass leaves the caller's images alone.
    return { logits, activations: { ...activations, images: tf.clone(activations.images) } };
  });
  const logits = joinRows(passes.map((q) => q.logits));
  return {
    logits,
    passes: passes.map((q) => q.activations),
    dispose: () => tf.dispose([logits, ...passes.flatMap((q) => Object.values(q.activations))]),
  };
}

/** `f` on each pass of `images`, in a tf.tidy of its own so that a pass's intermediates go with it. */
function eachPass<T extends TensorContainer>(images: Tensor4D, perPass: number, f: (part: Tensor4D) => T): T[] {
  const passes = policyPasses(images.shape[0], perPass);
  return passes.map(([start, size]) => tf.tidy(() => f(passes.length === 1 ? images : slice(images, start, size))));
}

/** The passes' rows as one tensor: the one pass's own, or their concatenation (the parts freed). */
function joinRows(parts: Tensor2D[]): Tensor2D {
  if (parts.length === 1) return parts[0]!;
  const joined = tf.concat(parts);
  tf.dispose(parts);
  return joined;
}

/**
 * P(T|X)'s logits alone, one pass of {@linkcode policyImagesPerPass} images at a time.
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

/**
 * A loss of log P(T|X) and its gradients with respect to P(T|X)'s parameters, from a forward pass
 * already made (by the trainer to draw the batch's crops, with the same parameters). The loss
 * couples the images of a batch (the P-step's contrast), the network does not: so the loss's
 * gradient with respect to the logits is taken first and then pulled back through the network
 * pass by pass from the saved activations, the passes' gradients summed. With one pass this is
 * exactly what tfjs's tape computes for the whole graph, without its second forward pass. With
 * tfjs's stock kernels on (the bench's baseline), each pass is differentiated by the tape, which
 * runs the forward pass again, as plain tfjs would.
 *
 * @param forward {@linkcode policyForward} under the current parameters.
 * @param loss The loss, given log P(t|x) `[N,|T|]`.
 * @returns The loss and one gradient per parameter, by name.
 */
export function policyGrads(
  p: Params,
  forward: PolicyForward,
  loss: (logProbs: Tensor2D) => Scalar,
): { value: Scalar; grads: Record<string, Tensor> } {
  const { value, grad } = tf.valueAndGrad((l: Tensor2D) => loss(tf.logSoftmax(l)))(forward.logits);
  let grads: Record<string, Tensor> | null = null;
  try {
    let start = 0;
    for (const a of forward.passes) {
      const size = a.images.shape[0];
      const part = tf.tidy(() => {
        const dy = forward.passes.length === 1 ? grad : slice(grad, start, size);
        if (!usingStockKernels()) return passBackward(p, a, dy);
        // The gradient of Σ logits ⊙ dy is dy pulled back through the network.
        return tf.variableGrads(() => tf.sum(tf.mul(passForward(p, a.images).logits, dy)), [...p.values()]).grads;
      });
      start += size;
      if (grads === null) grads = part;
      else {
        const sums: Record<string, Tensor> = tf.tidy(() => mapValues(grads!, (g, name) => tf.add(g, part[name]!)));
        tf.dispose([...Object.values(grads), ...Object.values(part)]);
        grads = sums;
      }
    }
  } finally {
    grad.dispose();
  }
  return { value, grads: grads! };
}

function mapValues<T, U>(o: Record<string, T>, f: (v: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v, k)]));
}
