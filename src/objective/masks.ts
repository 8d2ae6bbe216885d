/**
 * Constant masks over a batch of samples grouped by image (rows `n·k … n·k + k − 1` are the
 * crops of image n), shared by both objectives.
 *
 * @module
 */

import { type Tensor2D, tf } from "../tf.ts";

/** Added to a logit to take it out of a log-sum-exp: exp underflows to exactly zero. */
export const MASKED = -1e9;

/**
 * `[B,B]` float masks for `groups` images of `k` samples each.
 *
 * @returns `self` (1 on the diagonal), `same` (1 for two different samples of one image),
 *   `other` (1 for samples of different images).
 */
export function groupMasks(groups: number, k: number): { self: Tensor2D; same: Tensor2D; other: Tensor2D } {
  return tf.tidy(() => {
    const image = tf.floorDiv(tf.range(0, groups * k, 1, "int32"), k);
    const sameImage = tf.cast(tf.equal(tf.expandDims(image, 1), tf.expandDims(image, 0)), "float32") as Tensor2D;
    const self = tf.eye(groups * k);
    return { self, same: tf.sub(sameImage, self), other: tf.sub(1, sameImage) };
  });
}

/** Row-wise log-sum-exp of `x` over the entries where `mask` is 1. */
export function maskedLogSumExp(x: Tensor2D, mask: Tensor2D): Tensor2D {
  return tf.logSumExp(tf.add(x, tf.mul(tf.sub(1, mask), MASKED)), 1, true) as Tensor2D;
}
