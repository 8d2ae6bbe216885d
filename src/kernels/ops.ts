/**
 * The differentiable operations the networks are built from, with gradients written as
 * operations every backend runs fast:
 *
 * - tfjs's wasm backend has no `Conv2DBackpropFilter` kernel, and its matMul with a transpose
 *   flag ran ~10× slower than on a pre-transposed operand (REPRODUCE.md, "Earlier measurements");
 * - tfjs-webgpu's own `Conv2DBackpropFilter` gave wrong results on Mesa llvmpipe at batch 256
 *   and is the slowest kernel of a training step on a real GPU;
 * - tfjs-webgpu runs a matrix product with a small output on a handful of workgroups (see
 *   {@linkcode matMulSplitK}).
 *
 * So the filter gradient of a convolution is itself a convolution: with the batch as channels,
 * `dW[a,b,c,o] = Σ_{n,i,j} x[n, s·i+a, s·j+b, c] · dy[n,i,j,o]` is the valid convolution of
 * `x` transposed to `[C,H,W,N]` with `dy` transposed to `[Ho,Wo,N,O]`, dilated by the stride `s`.
 * The input gradient is the valid convolution of `dy`, padded by `k − 1`, with the flipped filter;
 * at stride 2, one such convolution per phase of the input ({@linkcode conv2dInputGradStride2}).
 * Tests check both against the cpu backend's stock gradient kernels.
 *
 * @module
 */

import {
  type GradSaveFunc,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor3D,
  type Tensor4D,
  tf,
} from "../tf.ts";

/** Stride of a convolution: this package uses 1 and 2. */
export type Stride = 1 | 2;

let stockKernels = false;

/**
 * Switches every operation here to tfjs's own kernels and gradients (and off again): the
 * benchmark's baseline, and training with `stockKernels`. The stock path cannot train
 * convolutions on wasm (no `Conv2DBackpropFilter` kernel there).
 */
export function useStockKernels(on: boolean): void {
  stockKernels = on;
}

/**
 * Filter gradient of a valid convolution. On WebGPU: {@linkcode conv2dFilterGradIm2col}; elsewhere
 * a convolution with the batch as channels (see the module doc).
 *
 * @param x Input `[N,H,W,C]`.
 * @param dy Output gradient `[N,Ho,Wo,O]`.
 * @param k Filter side.
 * @param stride The convolution's stride.
 * @returns `[k,k,C,O]`.
 */
export function conv2dFilterGrad(x: Tensor4D, dy: Tensor4D, k: number, stride: Stride): Tensor4D {
  if (tf.getBackend() === "webgpu") return conv2dFilterGradIm2col(x, dy, k, stride);
  return tf.tidy(() => {
    let g = tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, "valid", "NHWC", stride);
    // With a stride, rows of x past the last window leave extra rows here; they are not taps.
    if (g.shape[1] !== k || g.shape[2] !== k) g = tf.slice(g, [0, 0, 0, 0], [-1, k, k, -1]);
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

/**
 * Filter gradient as im2col and a batched matrix product: the k² strided views of `x` side by
 * side are the patches P `[rows, k²C]`, and dW = Pᵀ·dy, computed as one product per group of
 * rows and summed. On tfjs-webgpu this replaces a convolution with the batch as channels, which
 * gave wrong results on Mesa llvmpipe for 32 × 86 × 86 × 64 inputs with 84 × 84 filters; the
 * groups keep every product small and without atomics, so the sum is deterministic.
 */
export function conv2dFilterGradIm2col(x: Tensor4D, dy: Tensor4D, k: number, stride: Stride): Tensor4D {
  return tf.tidy(() => {
    const [n, , , c] = x.shape;
    const [, ho, wo, o] = dy.shape;
    // Slices of the batch whose patches fit one buffer binding.
    const chunk = maxBatchItems(4 * ho * wo * k * k * c);
    let sum: Tensor2D | null = null;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const taps: Tensor4D[] = [];
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const end = [start + size, a + stride * (ho - 1) + 1, b + stride * (wo - 1) + 1, c];
          taps.push(tf.stridedSlice(x, [start, a, b, 0], end, [1, stride, stride, 1]) as Tensor4D);
        }
      }
      const rows = size * ho * wo;
      const groups = largestDivisorAtMost(rows, IM2COL_GROUPS);
      const patches = tf.reshape(tf.concat(taps, 3), [groups, rows / groups, k * k * c]);
      const grads = tf.slice(dy, [start, 0, 0, 0], [size, -1, -1, -1]).reshape([groups, rows / groups, o]);
      const part = tf.sum(tf.matMul(patches, grads, true, false), 0) as Tensor2D;
      sum = sum ? tf.add(sum, part) : part;
    }
    return tf.reshape(sum!, [k, k, c, o]);
  });
}

/** Groups of rows in {@linkcode conv2dFilterGradIm2col}: 256 on an H200 (REPRODUCE.md, "Earlier measurements"). */
const IM2COL_GROUPS = 256;

function largestDivisorAtMost(n: number, max: number): number {
  for (let d = Math.min(n, max); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * Input gradient of a valid convolution as convolutions (see the module doc).
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
  if (stride === 2) return conv2dInputGradStride2(dy, w, inputShape);
  return tf.tidy(() => {
    const [, ho, wo, o] = dy.shape;
    const [h, wd] = [inputShape[1]!, inputShape[2]!];
    const k = w.shape[0];
    const flipped = flipFilter(w);
    // Padded to H + k − 1 rows: rows of x past the last window (H > Ho + k − 1) get zero.
    return mapBatches(
      dy,
      4 * (h + k - 1) * (wd + k - 1) * o,
      (part) => tf.conv2d(tf.pad(part, [[0, 0], [k - 1, h - ho], [k - 1, wd - wo], [0, 0]]), flipped, 1, "valid"),
    );
  });
}

/**
 * The input gradient of a stride-2 convolution, one phase at a time: the pixels of x at row
 * parity r and column parity s only see the filter taps of the same parities, so each phase is a
 * stride-1 convolution of dy with those taps (2×2, 2×1, 1×2 and 1×1 of a 3×3 filter), and the
 * phases are interleaved. The convolution of zero-dilated dy with the whole filter computes the
 * same sums with three quarters of its products on zeros, and bit-identical results (timings in
 * REPRODUCE.md, performance notes). Interleaving by stacking: tfjs's DepthToSpace cost more on
 * wasm than the convolutions it saved.
 */
function conv2dInputGradStride2(dy: Tensor4D, w: Tensor4D, inputShape: readonly number[]): Tensor4D {
  return tf.tidy(() => {
    const [, ho, wo, o] = dy.shape;
    const [k, , c] = w.shape;
    const [h, wd] = [inputShape[1]!, inputShape[2]!];
    // Every phase on ⌈H/2⌉ × ⌈W/2⌉ positions; an odd H or W leaves one row or column to cut off.
    const u = Math.ceil(h / 2);
    const v = Math.ceil(wd / 2);
    // Taps 2i + r of phase r: x's row 2p + r gets dy's rows p − i, hence the flip and the top padding.
    const phases = [0, 1].map((r) =>
      [0, 1].map((s) => flipFilter(tf.stridedSlice(w, [r, s, 0, 0], [k, k, c, o], [2, 2, 1, 1]) as Tensor4D))
    );
    // u ≥ Ho for a valid convolution: dy padded to u + kr − 1 rows.
    const phase = (part: Tensor4D, taps: Tensor4D) => {
      const [kr, ks] = taps.shape;
      return tf.conv2d(tf.pad(part, [[0, 0], [kr - 1, u - ho], [ks - 1, v - wo], [0, 0]]), taps, 1, "valid");
    };
    return mapBatches(dy, 4 * 4 * u * v * Math.max(c, o), (part) => {
      const n = part.shape[0];
      // [N,u,v,2,C] read as [N,u,2v,C] puts the odd columns after the even ones; rows alike.
      const rows = phases.map(([even, odd]) =>
        tf.reshape(tf.stack([phase(part, even!), phase(part, odd!)], 3), [n, u, 2 * v, c])
      );
      const dx = tf.reshape(tf.stack(rows, 2), [n, 2 * u, 2 * v, c]) as Tensor4D;
      return h === 2 * u && wd === 2 * v ? dx : tf.slice(dx, [0, 0, 0, 0], [n, h, wd, c]);
    });
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

function checkPadding(k: number, options: ConvOptions): void {
  if (options.padding === "same" && (options.stride !== 1 || k % 2 !== 1)) {
    throw new RangeError(
      `conv2d() supports "same" padding at stride 1 with odd filters, got stride ${options.stride}, k ${k}`,
    );
  }
}

/**
 * A 2-d convolution (NHWC) whose gradients avoid the slow and missing stock kernels
 * ({@linkcode conv2dGrads}).
 *
 * @param x Input `[N,H,W,C]`.
 * @param w Filter `[k,k,C,O]`.
 */
export function conv2d(x: Tensor4D, w: Tensor4D, options: ConvOptions): Tensor4D {
  const { stride, padding = "valid", inputGrad = true } = options;
  if (stockKernels) return tf.conv2d(x, w, stride, padding);
  const k = w.shape[0];
  checkPadding(k, options);
  const forward = (input: Tensor4D, filter: Tensor4D) =>
    mapBatches(
      input,
      4 * (input.shape[1] + k) ** 2 * Math.max(input.shape[3], filter.shape[3]),
      (part) => tf.conv2d(part, filter, stride, padding),
    );
  // Gradient functions take their tensors from `save`: tfjs then keeps copies alive until the
  // backward pass, even when the forward inputs were intermediates of an inner tf.tidy.
  if (!inputGrad) {
    const f = tf.customGrad((filter, save) => {
      (save as GradSaveFunc)([x]);
      return {
        value: forward(x, filter as Tensor4D),
        gradFunc: (dy: Tensor, saved: Tensor[]) =>
          conv2dGrads(saved[0] as Tensor4D, filter as Tensor4D, dy as Tensor4D, options).filter,
      };
    });
    return f(w) as Tensor4D;
  }
  const f = tf.customGrad((input, filter, save) => {
    (save as GradSaveFunc)([input as Tensor4D, filter as Tensor4D]);
    return {
      value: forward(input as Tensor4D, filter as Tensor4D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const { input: dx, filter: dw } = conv2dGrads(
          saved[0] as Tensor4D,
          saved[1] as Tensor4D,
          dy as Tensor4D,
          options,
        );
        return [dx!, dw];
      },
    };
  });
  return f(x, w) as Tensor4D;
}

/**
 * The gradients of {@linkcode conv2d} given its output gradient `dy`: of the filter, and of the
 * input unless `options.inputGrad` is false (then `input` is null).
 *
 * @param x The convolution's input `[N,H,W,C]`.
 * @param w Its filter `[k,k,C,O]`.
 * @param dy Output gradient `[N,Ho,Wo,O]`.
 */
export function conv2dGrads(
  x: Tensor4D,
  w: Tensor4D,
  dy: Tensor4D,
  options: ConvOptions,
): { input: Tensor4D | null; filter: Tensor4D } {
  const { stride, padding = "valid", inputGrad = true } = options;
  const k = w.shape[0];
  checkPadding(k, options);
  // A "same" convolution is the valid one on the input padded by (k − 1) / 2: its filter gradient
  // is taken on that padded input, and its input gradient is the "same" convolution of dy with
  // the flipped filter (no padding and cropping round trip).
  const filter = padding === "same"
    ? tf.tidy(() => conv2dFilterGrad(padSpatial(x, (k - 1) / 2), dy, k, 1))
    : conv2dFilterGrad(x, dy, k, stride);
  if (!inputGrad) return { input: null, filter };
  const input = padding === "same"
    ? tf.tidy(() => {
      const flipped = flipFilter(w);
      return mapBatches(
        dy,
        4 * (dy.shape[1] + k) ** 2 * Math.max(dy.shape[3], w.shape[2]),
        (part) => tf.conv2d(part, flipped, 1, "same"),
      );
    })
    : conv2dInputGrad(dy, w, stride, x.shape);
  return { input, filter };
}

/** `[k,k,C,O]` → `[k,k,O,C]` rotated by 180°: the filter of a convolution's input gradient. */
function flipFilter(w: Tensor4D): Tensor4D {
  return tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
}

/**
 * `x + b` with `b` broadcast over the last axis. The bias gradient, a sum over all other axes,
 * is a product with a row of ones, far faster on wasm than tfjs's Sum over leading axes (REPRODUCE.md,
 * performance notes).
 */
export function biasAdd<T extends Tensor>(x: T, b: Tensor): T {
  if (stockKernels) return tf.add(x, b);
  const f = tf.customGrad((input, bias) => ({
    value: tf.add(input as Tensor, bias as Tensor),
    gradFunc: (dy: Tensor) => [dy, biasGrad(dy)],
  }));
  return f(x, b) as T;
}

/** The gradient of {@linkcode biasAdd}'s bias: `dy` summed over all but its last axis. */
export function biasGrad(dy: Tensor): Tensor1D {
  const c = dy.shape.at(-1)!;
  const rows = dy.size / c;
  return tf.tidy(() => tf.reshape(product(tf.ones([1, rows]), tf.reshape(dy, [rows, c])), [c]));
}

/**
 * 2×2 average pooling with stride 2. Its gradient spreads dy/4 over each window, which is a
 * nearest-neighbour upsampling, faster on wasm than tfjs's AvgPoolGrad (REPRODUCE.md, performance notes).
 */
export function avgPool2(x: Tensor4D): Tensor4D {
  if (stockKernels) return tf.avgPool(x, 2, 2, "valid");
  const f = tf.customGrad((input) => ({
    value: tf.avgPool(input as Tensor4D, 2, 2, "valid"),
    gradFunc: (dy: Tensor) => avgPool2Grad(dy as Tensor4D),
  }));
  return f(x) as Tensor4D;
}

/** The input gradient of {@linkcode avgPool2} (for an input of even side). */
export function avgPool2Grad(dy: Tensor4D): Tensor4D {
  return tf.tidy(() => tf.mul(tf.image.resizeNearestNeighbor(dy, [2 * dy.shape[1], 2 * dy.shape[2]]), 0.25));
}

/** `a · b` with gradients computed on explicitly transposed operands (see the module doc). */
export function matMul(a: Tensor2D, b: Tensor2D): Tensor2D {
  if (stockKernels) return tf.matMul(a, b);
  const f = tf.customGrad((x, y, save) => {
    (save as GradSaveFunc)([x as Tensor2D, y as Tensor2D]);
    return {
      value: product(x as Tensor2D, y as Tensor2D),
      gradFunc: (dz: Tensor, saved: Tensor[]) =>
        matMulGrads(saved[0] as Tensor2D, saved[1] as Tensor2D, dz as Tensor2D),
    };
  });
  return f(a, b) as Tensor2D;
}

/**
 * The gradients of {@linkcode matMul}`(a, b)` given the product's gradient `dz`: of `a`, then of `b`.
 *
 * `a`'s gradient dz·bᵀ is taken as (b·dzᵀ)ᵀ when `a` has fewer rows than `b` columns: tfjs-wasm's
 * product is slow when its second operand is the large one, and at P(T|X)'s 56448 → 128 layer
 * on 32 images bᵀ is 7.2 M floats and dzᵀ 4,096 (REPRODUCE.md, performance notes).
 */
export function matMulGrads(a: Tensor2D, b: Tensor2D, dz: Tensor2D): [Tensor2D, Tensor2D] {
  const da = a.shape[0] < b.shape[1] ? tf.transpose(product(b, tf.transpose(dz))) : product(dz, tf.transpose(b));
  return [da, product(tf.transpose(a), dz)];
}

/** The input gradient of `tf.relu`, from its output `y`: as tfjs's own, `dy` where the input was positive. */
export function reluGrad<T extends Tensor>(dy: T, y: T): T {
  return tf.mul(dy, tf.step(y));
}

/**
 * Row-wise log-sum-exp of a matrix, `[n,1]`: tfjs's `logSumExp(x, 1, true)`, with the same forward
 * ops and a gradient equal to tfjs's to the bit, but cheaper. tfjs differentiates its max shift
 * too, through `equal(x, max)`, which tfjs-wasm broadcasts element by element: 0.6 s of a 2,048-crop
 * h-step. Here that mask is `sign(x − max) + 1` (x − max is 0 exactly where x = max, and ≤ 0
 * elsewhere), and the broadcast row of ones that tfjs multiplies in is left out (a product by 1).
 * Every other sum and product is tfjs's, in its order: dx = dc·e^a + (dy − Σⱼ dc·e^a)·[x = max],
 * with a = x − max and dc = dy / Σⱼ e^a. Equal to the bit where `x` feeds nothing else: tfjs
 * adds the gradients of a tensor's uses one by one, so a third use would add its part to the
 * sum of the two here in another order than to tfjs's two parts.
 */
export function logSumExpRows(x: Tensor2D): Tensor2D {
  if (stockKernels) return tf.logSumExp(x, 1, true) as Tensor2D;
  const n = x.shape[0];
  const f = tf.customGrad((input, save) => {
    const xMax = tf.max(input as Tensor2D, 1, true);
    const a = tf.sub(input as Tensor2D, xMax);
    const b = tf.exp(a);
    const c = tf.sum(b, 1);
    (save as GradSaveFunc)([a, b, c]);
    return {
      value: tf.reshape(tf.add(tf.reshape(xMax, [n]), tf.log(c)), [n, 1]),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [a, b, c] = saved as [Tensor2D, Tensor2D, Tensor1D];
        const dRes = tf.reshape(dy, [n]);
        const da = tf.mul(tf.reshape(tf.div(dRes, c), [n, 1]), b);
        const dMax = tf.add(tf.reshape(dRes, [n, 1]), tf.reshape(tf.neg(tf.sum(da, 1)), [n, 1]));
        return tf.add(da, tf.mul(dMax, tf.add(tf.sign(a), 1)));
      },
    };
  });
  return f(x) as Tensor2D;
}

/** Whether {@linkcode useStockKernels} is on. */
export function usingStockKernels(): boolean {
  return stockKernels;
}

/**
 * `a · b`, split where tfjs-webgpu would leave a GPU nearly idle. It gives each 32 × 32 block of
 * the output one workgroup that walks the whole shared dimension (program type 3, kept for
 * determinism, src/backend.ts): a bias gradient, a row of ones times 663,552 rows of dy, runs on
 * one workgroup, and P(T|X)'s 56448 → 128 layer on 32. There the shared dimension is cut into
 * slices, multiplied as one batch and summed ({@linkcode matMulSplitK}).
 */
function product(a: Tensor2D, b: Tensor2D): Tensor2D {
  if (tf.getBackend() !== "webgpu") return tf.matMul(a, b);
  const [m, k] = a.shape;
  const blocks = Math.ceil(m / 32) * Math.ceil(b.shape[1] / 32);
  const slices = largestDivisorAtMost(k, Math.min(Math.ceil(MIN_WORKGROUPS / blocks), Math.floor(k / MIN_SLICE)));
  return slices > 1 ? matMulSplitK(a, b, slices) : tf.matMul(a, b);
}

/** Workgroups {@linkcode product} aims for: two per streaming multiprocessor of an H200 (132). */
const MIN_WORKGROUPS = 256;

/** Shortest slice of the shared dimension {@linkcode product} cuts. */
const MIN_SLICE = 256;

/**
 * `a · b` as the sum over `slices` equal slices of the shared dimension, multiplied as one batched
 * product: more workgroups for a small output, and, unlike tfjs's split-K kernel (atomics), the
 * same sum in the same order on every run.
 *
 * @param a `[m, k]`.
 * @param b `[k, n]`.
 * @param slices A divisor of `k`.
 * @throws {RangeError} When `slices` does not divide `k`.
 */
export function matMulSplitK(a: Tensor2D, b: Tensor2D, slices: number): Tensor2D {
  const [m, k] = a.shape;
  if (!(Number.isInteger(slices) && slices >= 1 && k % slices === 0)) {
    throw new RangeError(`matMulSplitK(): ${slices} slices do not divide the shared dimension ${k}`);
  }
  return tf.tidy(() => {
    const width = k / slices;
    // a's slices side by side: for a single row a reshape, otherwise a transposed copy.
    const as = m === 1 ? tf.reshape(a, [slices, 1, width]) : tf.transpose(tf.reshape(a, [m, slices, width]), [1, 0, 2]);
    const parts = tf.matMul(as as Tensor3D, tf.reshape(b, [slices, width, b.shape[1]]) as Tensor3D);
    return tf.sum(parts, 0) as Tensor2D;
  });
}

/**
 * The most batch items whose largest tensor fits one storage-buffer binding of the current
 * backend: WebGPU devices cap a binding (Mesa llvmpipe at 128 MiB), and tfjs-webgpu computes
 * wrong results past the cap instead of failing. Other backends have no such cap.
 *
 * @param bytesPerItem Bytes of the largest tensor per batch item.
 */
export function maxBatchItems(bytesPerItem: number): number {
  if (tf.getBackend() !== "webgpu") return Infinity;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  return Math.max(1, Math.floor(device.limits.maxStorageBufferBindingSize / bytesPerItem));
}

/**
 * `f` applied to slices of the batch that fit {@linkcode maxBatchItems}, results concatenated
 * (and differentiable through the concatenation): one call where the batch fits.
 */
export function mapBatches<T extends Tensor>(x: Tensor4D, bytesPerItem: number, f: (part: Tensor4D) => T): T {
  const n = x.shape[0];
  const chunk = maxBatchItems(bytesPerItem);
  if (n <= chunk) return f(x);
  const parts: T[] = [];
  for (let start = 0; start < n; start += chunk) {
    parts.push(f(tf.slice(x, [start, 0, 0, 0], [Math.min(chunk, n - start), -1, -1, -1])));
  }
  return tf.concat(parts) as T;
}

/** Zero padding of `p` pixels on each side of the two spatial axes of an NHWC tensor. */
export function padSpatial(x: Tensor4D, p: number): Tensor4D {
  return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
}
