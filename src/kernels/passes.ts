/**
 * A network's batch cut into passes that fit the backends' memory: tfjs's wasm heap ends at
 * 4 GiB (a P-step on 256 84×84 images at once aborted there, 192 did not), and WebGPU binds at
 * most 128 MiB per storage buffer. A pass holds at most {@linkcode PASS_BYTES}, so one of its
 * maps, a sixteenth of that, stays within the smallest binding WebGPU allows.
 *
 * @module
 */

import { type Tensor, type Tensor2D, type Tensor4D, type TensorContainer, tf } from "../tf.ts";

/** Memory a pass may hold. */
export const PASS_BYTES = 2 ** 30;

/** The most images one pass takes when each holds `bytesPerImage`. */
export function imagesPerPass(bytesPerImage: number): number {
  return Math.max(1, Math.floor(PASS_BYTES / bytesPerImage));
}

/** A batch of `n` cut into passes of at most `perPass` images, as `[start, size]`, all but the last of one size. */
export function passRanges(n: number, perPass: number): [number, number][] {
  const count = Math.ceil(n / perPass);
  const size = Math.ceil(n / count);
  return Array.from({ length: count }, (_, i) => [i * size, Math.min(size, n - i * size)]);
}

/** Rows `start … start + size − 1` of `x`. */
export function rowSlice<T extends Tensor>(x: T, start: number, size: number): T {
  return tf.slice(x, [start, ...x.shape.slice(1).map(() => 0)], [size, ...x.shape.slice(1).map(() => -1)]);
}

/** `f` on each pass of `images`, in a tf.tidy of its own so that a pass's intermediates go with it. */
export function eachPass<T extends TensorContainer>(images: Tensor4D, perPass: number, f: (part: Tensor4D) => T): T[] {
  const passes = passRanges(images.shape[0], perPass);
  return passes.map(([start, size]) => tf.tidy(() => f(passes.length === 1 ? images : rowSlice(images, start, size))));
}

/** The passes' rows as one tensor: the one pass's own, or their concatenation (the parts freed). */
export function joinRows(parts: Tensor2D[]): Tensor2D {
  if (parts.length === 1) return parts[0]!;
  const joined = tf.concat(parts);
  tf.dispose(parts);
  return joined;
}
