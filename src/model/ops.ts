/**
 * The differentiable operations the networks are built from, with gradients written as
 * operations every backend runs fast:
 *
 * - tfjs's wasm backend has no `Conv2DBackpropFilter` kernel, and its matMul with a transpose
 *   flag ran ~10× slower than on a pre-transposed operand (../shared/BACKENDS.md);
 * - tfjs-webgpu's own `Conv2DBackpropFilter` gave wrong results on Mesa llvmpipe at batch 256
 *   and is the slowest kernel of a training step on a real GPU.
 *
 * So the filter gradient of a convolution is itself a convolution: with the batch as channels,
 * `dW[a,b,c,o] = Σ_{n,i,j} x[n, s·i+a, s·j+b, c] · dy[n,i,j,o]` is the valid convolution of
 * `x` transposed to `[C,H,W,N]` with `dy` transposed to `[Ho,Wo,N,O]`, dilated by the stride `s`.
 * The input gradient is the valid convolution of `dy`, zero-dilated by the stride and padded by
 * `k − 1`, with the flipped filter: on wasm 2.5× faster than tfjs's `Conv2DBackpropInput` for the
 * encoder's stride-2 layers. Tests check both against the cpu backend's stock gradient kernels.
 *
 * @module
 */

import { type GradSaveFunc, type Tensor, type Tensor2D, type Tensor4D, tf } from "../tf.ts";

/** Stride of a convolution: this package uses 1 and 2. */
export type Stride = 1 | 2;

/**
 * Filter gradient of a valid convolution as a convolution (see the module doc).
 *
 * @param x Input `[N,H,W,C]`.
 * @param dy Output gradient `[N,Ho,Wo,O]`.
 * @param k Filter side.
 * @param stride The convolution's stride.
 * @returns `[k,k,C,O]`.
 */
export function conv2dFilterGrad(x: Tensor4D, dy: Tensor4D, k: number, stride: Stride): Tensor4D {
  return tf.tidy(() => {
    const xT = tf.transpose(x, [3, 1, 2, 0]);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    let g = tf.conv2d(xT, dyT, 1, "valid", "NHWC", stride);
    // With a stride, rows of x past the last window leave extra rows here; they are not taps.
    if (g.shape[1] !== k || g.shape[2] !== k) g = tf.slice(g, [0, 0, 0, 0], [-1, k, k, -1]);
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

/**
 * Input gradient of a valid convolution as a convolution (see the module doc).
 *
 * @param dy Output gradient `[N,Ho,Wo,O]`.
 * @param w Filter `[k,k,C,O]`.
 * @param stride The convolution's stride.
 * @param inputShape The input's shape `[N,H,W,C]`.
 * @returns `[N,H,W,C]`.
 */
export function conv2dInputGrad(
  dy: Tensor4D,
  w: Tensor4D,
  stride: Stride,
  inputShape: readonly number[],
): Tensor4D {
  return tf.tidy(() => {
    const [n, ho, wo, o] = dy.shape;
    const k = w.shape[0];
    let d = dy;
    if (stride === 2) {
      // Interleave zeros: [N,Ho,1,Wo,1,O] padded to [N,Ho,2,Wo,2,O] is [N,2Ho,2Wo,O] with dy at
      // the even positions and one trailing zero row and column.
      d = tf.reshape(
        tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, o]), [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]),
        [n, 2 * ho, 2 * wo, o],
      );
    }
    // Rows of x past the last window (when (H − k) is not a multiple of the stride) get zero.
    const bottom = k - 1 + inputShape[1]! - (stride * (ho - 1) + k) - (stride - 1);
    const right = k - 1 + inputShape[2]! - (stride * (wo - 1) + k) - (stride - 1);
    d = tf.pad(d, [[0, 0], [k - 1, bottom], [k - 1, right], [0, 0]]);
    return tf.conv2d(d, flipFilter(w), 1, "valid");
  });
}

/** How a convolution treats the border: no padding, or zero padding that keeps the size. */
export type Padding = "valid" | "same";

/** Options of {@linkcode conv2d}. */
export interface ConvOptions {
  readonly stride: Stride;
  /** "same" is supported at stride 1 (the P(T|X) network's layers). @default "valid" */
  readonly padding?: Padding;
  /** Whether `x` needs a gradient: false for a network's input saves a convolution. @default true */
  readonly inputGrad?: boolean;
}

/**
 * A 2-d convolution (NHWC) whose gradients avoid the slow and missing stock kernels.
 *
 * @param x Input `[N,H,W,C]`.
 * @param w Filter `[k,k,C,O]`.
 */
export function conv2d(x: Tensor4D, w: Tensor4D, options: ConvOptions): Tensor4D {
  const { stride, padding = "valid", inputGrad = true } = options;
  const k = w.shape[0];
  if (padding === "same" && (stride !== 1 || k % 2 !== 1)) {
    throw new RangeError(`conv2d() supports "same" padding at stride 1 with odd filters, got stride ${stride}, k ${k}`);
  }
  const forward = (input: Tensor4D, filter: Tensor4D) => tf.conv2d(input, filter, stride, padding);
  // A "same" convolution is the valid one on the input padded by (k − 1) / 2: its filter gradient
  // is taken on that padded input, and its input gradient is the "same" convolution of dy with
  // the flipped filter (no padding and cropping round trip).
  const filterGrad = (input: Tensor4D, dy: Tensor4D) =>
    padding === "same"
      ? tf.tidy(() => conv2dFilterGrad(padSpatial(input, (k - 1) / 2), dy, k, 1))
      : conv2dFilterGrad(input, dy, k, stride);
  const inputGradOf = (dy: Tensor4D, filter: Tensor4D, shape: readonly number[]) =>
    padding === "same"
      ? tf.tidy(() => tf.conv2d(dy, flipFilter(filter), 1, "same"))
      : conv2dInputGrad(dy, filter, stride, shape);
  // Gradient functions take their tensors from `save`: tfjs then keeps copies alive until the
  // backward pass, even when the forward inputs were intermediates of an inner tf.tidy.
  if (!inputGrad) {
    const f = tf.customGrad((filter, save) => {
      (save as GradSaveFunc)([x]);
      return {
        value: forward(x, filter as Tensor4D),
        gradFunc: (dy: Tensor, saved: Tensor[]) => filterGrad(saved[0] as Tensor4D, dy as Tensor4D),
      };
    });
    return f(w) as Tensor4D;
  }
  const f = tf.customGrad((input, filter, save) => {
    (save as GradSaveFunc)([input as Tensor4D, filter as Tensor4D]);
    return {
      value: forward(input as Tensor4D, filter as Tensor4D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, ws] = saved as [Tensor4D, Tensor4D];
        return [inputGradOf(dy as Tensor4D, ws, xs.shape), filterGrad(xs, dy as Tensor4D)];
      },
    };
  });
  return f(x, w) as Tensor4D;
}

/** `[k,k,C,O]` → `[k,k,O,C]` rotated by 180°: the filter of a convolution's input gradient. */
function flipFilter(w: Tensor4D): Tensor4D {
  return tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
}

/**
 * `x + b` with `b` broadcast over the last axis. The bias gradient, a sum over all other axes,
 * is a product with a row of ones: on wasm 15× faster than tfjs's Sum over leading axes.
 */
export function biasAdd<T extends Tensor>(x: T, b: Tensor): T {
  const f = tf.customGrad((input, bias) => ({
    value: tf.add(input as Tensor, bias as Tensor),
    gradFunc: (dy: Tensor) => {
      const c = dy.shape.at(-1)!;
      const rows = dy.size / c;
      return [dy, tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(dy, [rows, c])), [c]))];
    },
  }));
  return f(x, b) as T;
}

/**
 * 2×2 average pooling with stride 2. Its gradient spreads dy/4 over each window, which is a
 * nearest-neighbour upsampling: on wasm 4× faster than tfjs's AvgPoolGrad.
 */
export function avgPool2(x: Tensor4D): Tensor4D {
  const f = tf.customGrad((input) => {
    const [, h, w] = (input as Tensor4D).shape;
    return {
      value: tf.avgPool(input as Tensor4D, 2, 2, "valid"),
      gradFunc: (dy: Tensor) => tf.tidy(() => tf.mul(tf.image.resizeNearestNeighbor(dy as Tensor4D, [h, w]), 0.25)),
    };
  });
  return f(x) as Tensor4D;
}

/** `a · b` with gradients computed on explicitly transposed operands (see the module doc). */
export function matMul(a: Tensor2D, b: Tensor2D): Tensor2D {
  const f = tf.customGrad((x, y, save) => {
    (save as GradSaveFunc)([x as Tensor2D, y as Tensor2D]);
    return {
      value: tf.matMul(x as Tensor2D, y as Tensor2D),
      gradFunc: (dz: Tensor, saved: Tensor[]) => {
        const [xs, ys] = saved as [Tensor2D, Tensor2D];
        return [
          tf.matMul(dz as Tensor2D, tf.transpose(ys)),
          tf.matMul(tf.transpose(xs), dz as Tensor2D),
        ];
      },
    };
  });
  return f(a, b) as Tensor2D;
}

/** Zero padding of `p` pixels on each side of the two spatial axes of an NHWC tensor. */
export function padSpatial(x: Tensor4D, p: number): Tensor4D {
  return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
}
