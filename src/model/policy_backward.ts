/**
 * P(T|X)'s gradients for the P-step, written by hand: the P-step's loss couples the images of a
 * batch (its contrast), the network does not, so the loss's gradient with respect to the logits
 * is taken first and then pulled back through the network pass by pass from the activations the
 * forward pass saved ({@linkcode policyForward}, made by the trainer to draw the batch's crops).
 * With one pass this is exactly what tfjs's tape computes for the whole graph, the same kernels
 * in the same order, without the tape's second forward pass.
 *
 * @module
 */

import { avgPool2Grad, biasGrad, conv2dGrads, matMulGrads, reluGrad, usingStockKernels } from "../kernels/ops.ts";
import { CHANNELS, passForward, type PolicyActivations, policyImagesPerPass } from "./policy.ts";
import { eachPass, joinRows, rowSlice } from "../kernels/passes.ts";
import { type Scalar, type Tensor, type Tensor2D, type Tensor4D, tf } from "../tf.ts";
import { param, type Params } from "./params.ts";

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

/**
 * A loss of log P(T|X) and its gradients with respect to P(T|X)'s parameters, from a forward pass
 * already made with the same parameters (see the module documentation), the passes' gradients
 * summed. With tfjs's stock kernels on (the bench's baseline), each pass is differentiated by the
 * tape, which runs the forward pass again, as plain tfjs would.
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
        const dy = forward.passes.length === 1 ? grad : rowSlice(grad, start, size);
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
