/**
 * Constant masks over a batch of samples grouped by image (rows `n·k … n·k + k − 1` are the
 * crops of image n), shared by both objectives.
 *
 * @module
 */

import { logSumExpRows } from "../kernels/ops.ts";
import { type Tensor2D, tf } from "../tf.ts";

/** Added to a logit to take it out of a log-sum-exp: exp underflows to exactly zero. */
export const MASKED = -1e9;

/**
 * `[B,B]` float masks for `groups` images of `k` samples each.
 *
 * On a GPU from broadcast comparisons, as the upload of 3·B² floats would cost more; elsewhere
 * written on the host once per shape, which is faster on wasm (REPRODUCE.md, "Performance notes").
 *
 * @returns `self` (1 on the diagonal), `same` (1 for two different samples of one image),
 *   `other` (1 for samples of different images).
 */
export function groupMasks(groups: number, k: number): { self: Tensor2D; same: Tensor2D; other: Tensor2D } {
  const b = groups * k;
  if (tf.getBackend() === "webgpu") {
    return tf.tidy(() => {
      const image = tf.floorDiv(tf.range(0, b, 1, "int32"), k);
      const sameImage = tf.cast(tf.equal(tf.expandDims(image, 1), tf.expandDims(image, 0)), "float32") as Tensor2D;
      const self = tf.eye(b);
      return { self, same: tf.sub(sameImage, self), other: tf.sub(1, sameImage) };
    });
  }
  const { self, same, other } = hostGroupMasks(groups, k);
  return { self: tf.tensor2d(self, [b, b]), same: tf.tensor2d(same, [b, b]), other: tf.tensor2d(other, [b, b]) };
}

interface HostMasks {
  readonly self: Float32Array;
  readonly same: Float32Array;
  readonly other: Float32Array;
}

/** The host masks of the shapes used last: a run's h-step and P-step shapes, each built once. */
const hostMasks = new Map<string, HostMasks>();
const HOST_MASK_SHAPES = 2;

function hostGroupMasks(groups: number, k: number): HostMasks {
  const key = `${groups}×${k}`;
  const cached = hostMasks.get(key);
  if (cached) return cached;
  const b = groups * k;
  const self = new Float32Array(b * b), same = new Float32Array(b * b), other = new Float32Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      const at = i * b + j;
      if (i === j) self[at] = 1;
      else if (Math.floor(i / k) === Math.floor(j / k)) same[at] = 1;
      else other[at] = 1;
    }
  }
  if (hostMasks.size >= HOST_MASK_SHAPES) hostMasks.delete(hostMasks.keys().next().value!);
  const masks = { self, same, other };
  hostMasks.set(key, masks);
  return masks;
}

/**
 * Row-wise log-sum-exp of `x` over the entries where `mask` is 1 (its input, a sum made here,
 * feeds nothing else: {@linkcode logSumExpRows} is then tfjs's own to the bit).
 */
export function maskedLogSumExp(x: Tensor2D, mask: Tensor2D): Tensor2D {
  return logSumExpRows(tf.add(x, tf.mul(tf.sub(1, mask), MASKED)));
}

/**
 * `[groups·rows, groups·cols]` float mask, 1 where row r and column c belong to different groups
 * (r in group ⌊r / rows⌋, c in group ⌊c / cols⌋): every crop of an image against the drawn crops
 * of the other images. Built like {@linkcode groupMasks}: on the host, except on a GPU.
 */
export function blockMask(groups: number, rows: number, cols: number): Tensor2D {
  const r = groups * rows, c = groups * cols;
  if (tf.getBackend() === "webgpu") {
    return tf.tidy(() => {
      const rowGroup = tf.expandDims(tf.floorDiv(tf.range(0, r, 1, "int32"), rows), 1);
      const colGroup = tf.expandDims(tf.floorDiv(tf.range(0, c, 1, "int32"), cols), 0);
      return tf.cast(tf.notEqual(rowGroup, colGroup), "float32") as Tensor2D;
    });
  }
  const mask = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    const group = Math.floor(i / rows);
    for (let j = 0; j < c; j++) if (Math.floor(j / cols) !== group) mask[i * c + j] = 1;
  }
  return tf.tensor2d(mask, [r, c]);
}
