/**
 * The linear probe: multinomial logistic regression as scikit-learn's default
 * `LogisticRegression()` fits it (the paper's linear evaluation) — softmax cross-entropy, L2
 * penalty on the weights with C = 1, intercept fitted and not penalised, full batch, L-BFGS
 * started from zero.
 *
 * The objective is minimised in scikit-learn's scaled form (its lbfgs solver's, ≥ 1.1):
 *
 *   f(W, b) = (1/n) Σᵢ CE(softmax(xᵢW + b), yᵢ) + ‖W‖² / (2Cn),
 *
 * which is (C·Σᵢ CE + ½‖W‖²) / (Cn), the same minimiser. The stopping test is on this f: the
 * largest |∂f/∂θ| must reach `tol`. scikit-learn passes its tol = 1e-4 as L-BFGS-B's gtol on the
 * same quantity but stops at max_iter = 100, which on raw MNIST comes first (largest gradient
 * there 9e-4, f 0.0103 above the optimum); the default here is 1e-5 within 1000 iterations, so
 * the result is the optimum (f within 1e-5 of it) rather than where a budget ran out.
 *
 * L-BFGS (./lbfgs.ts) with memory 10 (scipy's default). Parameters and L-BFGS state are float64
 * on the host; only the loss and gradient are computed by tfjs, with X uploaded once and one
 * read-back per evaluation. The per-sample
 * losses are read back (not summed on the device) and summed in float64: a float32 sum of 60,000
 * terms is off by ~√n·2⁻²⁴ ≈ 1.5e-5 relative, far more than the decrease of a step near the
 * optimum, which the line search must see.
 *
 * On raw pixels it gives the paper's raw-pixel baselines (REPRODUCE.md, "Raw-pixel baselines").
 *
 * Standardisation (`standardize: true`) rescales every feature to mean 0 and standard deviation
 * 1 on the training set (a constant feature is only centred), and applies the same map to the
 * test features. It matters because the penalty ‖W‖²/(2Cn) is not scale-invariant: features on
 * the unit sphere (the encoder's outputs) have per-dimension scale ~1/√dim, so the weights needed
 * to separate the classes are large and the penalty, not the data, decides the fit. Raw pixels in
 * [0, 1], unstandardised, reproduce the paper's raw-pixel numbers (above); the caller decides.
 *
 * Classes without a training sample are left out of the optimisation, as scikit-learn only knows
 * the classes it saw: their weights are 0 and their bias −∞ (the limit an unpenalised intercept
 * tends to), so they are never predicted.
 *
 * @example
 * ```ts
 * import { fitProbe, probeAccuracy } from "./probe.ts";
 * import { tf } from "../tf.ts";
 * import assert from "node:assert";
 * await tf.setBackend("cpu");
 * // Two classes on a line, label 1 right of 0.
 * const x = new Float32Array([-2, -1, -0.5, 0.5, 1, 2]);
 * const labels = new Uint8Array([0, 0, 0, 1, 1, 1]);
 * const fit = await fitProbe(x, labels, 1, { classes: 2 });
 * assert.ok(fit.converged);
 * assert.equal(await probeAccuracy(fit, x, labels), 1);
 * ```
 *
 * @module
 */

import { type Tensor, type Tensor2D, tf } from "../tf.ts";
import { lbfgs, type LbfgsStop, type Objective } from "./lbfgs.ts";

/** How the probe is fitted. */
export interface ProbeOptions {
  /** Inverse L2 strength, as scikit-learn's C. @default 1 */
  readonly C?: number;
  /** Most L-BFGS iterations (scikit-learn's max_iter counts the same). @default 1000 */
  readonly maxIter?: number;
  /** Stop when the largest |gradient| of the scaled objective is at most this. @default 1e-5 */
  readonly tol?: number;
  /** Standardise each feature on the training set (see the module doc). @default false */
  readonly standardize?: boolean;
  /**
   * Take scikit-learn's path: the loss and gradient in float64 on the host (scikit-learn converts
   * float32 features to float64 for lbfgs), and scipy's L-BFGS-B steps (./lbfgs.ts, `lbfgsb`).
   * What a fit stopped before the optimum returns depends on the path there, not only on the
   * objective: on collapsed features float32 and another line search change a 100-iteration
   * fit's accuracy by a few points (REPRODUCE.md, "Probe protocols"). Without it, float32 on the
   * tfjs backend and the `wolfe` steps, which reach the optimum faster. @default false
   */
  readonly followScikitLearn?: boolean;
  /** L-BFGS memory: curvature pairs kept. @default 10 */
  readonly memory?: number;
  /** Number of classes; labels must be below it. @default max(10, largest label + 1) */
  readonly classes?: number;
}

/** Why the fit stopped. */
export type ProbeStop = LbfgsStop;

/** A fitted probe and how the fit went. */
export interface ProbeFit {
  /** W, `dim × classes` row-major (0 for classes without training samples). */
  readonly weights: Float32Array;
  /** b, one per class (−∞ for classes without training samples). */
  readonly bias: Float32Array;
  /** Per-feature mean subtracted before W, or null without standardisation. */
  readonly mean: Float32Array | null;
  /** Per-feature divisor applied after the mean, or null without standardisation. */
  readonly scale: Float32Array | null;
  /** Number of classes (columns of W). */
  readonly classes: number;
  /** Features per sample (rows of W). */
  readonly dim: number;
  /** L-BFGS iterations taken. */
  readonly iterations: number;
  /** Loss and gradient evaluations (one matrix product pair and one read-back each). */
  readonly evaluations: number;
  /** Whether `gradNorm ≤ tol`. */
  readonly converged: boolean;
  /** Why L-BFGS stopped. */
  readonly stopped: ProbeStop;
  /** Largest |gradient| of the scaled objective at the result: what `tol` is tested on. */
  readonly gradNorm: number;
  /** The scaled objective (mean cross-entropy + ‖W‖²/(2Cn)) at the result. */
  readonly loss: number;
  /** Wall time of the fit in milliseconds, upload and standardisation included. */
  readonly ms: number;
}

const DEFAULTS = { C: 1, maxIter: 1000, tol: 1e-5, standardize: false, memory: 10, followScikitLearn: false } as const;

/**
 * The two protocols every representation is probed with.
 *
 * - `standardized` (this package's): features standardised on the probe's training set, fitted
 *   to the optimum (largest |gradient| ≤ 1e-5, at most 1000 iterations). Raw pixels are the
 *   exception: they are probed unstandardised in [0, 1] (see `evaluateRaw`).
 * - `paper`: scikit-learn's `LogisticRegression()` as shipped, which is all the paper says of its
 *   probe: raw, unstandardised features, lbfgs, C = 1, tol = 1e-4 on the largest |gradient|, and
 *   stopped at `max_iter = 100` as scikit-learn stops (its ConvergenceWarning is the
 *   `converged: false` here).
 */
export const PROBE_PROTOCOLS = {
  standardized: { standardize: true, maxIter: 1000, tol: 1e-5 },
  paper: { standardize: false, maxIter: 100, tol: 1e-4, followScikitLearn: true },
} as const satisfies Record<string, ProbeOptions>;

/** A probe protocol's name. */
export type ProbeProtocol = keyof typeof PROBE_PROTOCOLS;

/** Every protocol, this package's first. */
export const PROBE_PROTOCOL_NAMES = Object.keys(PROBE_PROTOCOLS) as ProbeProtocol[];

// X is kept on the device twice, as X and Xᵀ, so that both products per evaluation (X·W and
// Xᵀ·residual) have the large matrix on the left: tfjs-wasm packs a matMul's right operand into a
// cached XNNPACK weight copy (so X on the right costs a copy anyway, and was 1.8× slower), and
// matMul's transpose flags are ~10× slower. wasm memory ends at 4 GiB, and tfjs-wasm only warns
// when an XNNPACK allocation fails, then computes garbage: refuse what cannot fit instead.
// Shifted MNIST's 60000×7056 raw pixels take 2 × 1.7 GB and fit.
const WASM_MAX_BYTES = 3.75 * 2 ** 30;

/**
 * Fits the probe.
 *
 * @param x Features, `n × dim` row-major.
 * @param labels Class of each of the n rows.
 * @param dim Features per row.
 * @param options See {@linkcode ProbeOptions}.
 * @returns The weights and how the fit went; a fit that did not reach `tol` is returned with
 *   `converged: false`, never thrown.
 * @throws {RangeError} If the sizes disagree, n < 2, fewer than two classes occur, a label is not
 *   below `classes`, a value is not finite, an option is out of range, or (on wasm) X and Xᵀ
 *   would not fit in 4 GiB.
 * @throws {TypeError} If `x` is not a Float32Array or `labels` not a Uint8Array.
 */
export async function fitProbe(
  x: Float32Array,
  labels: Uint8Array,
  dim: number,
  options: ProbeOptions = {},
): Promise<ProbeFit> {
  const start = performance.now();
  const n = _checkData("fit probe", x, labels, dim);
  if (n < 2) throw new RangeError(`Cannot fit probe: it needs at least 2 samples, got ${n}`);
  const opts = _checkOptions(options);
  let maxLabel = 0;
  for (const y of labels) maxLabel = Math.max(maxLabel, y);
  const classes = opts.classes ?? Math.max(10, maxLabel + 1);
  if (maxLabel >= classes) {
    throw new RangeError(`Cannot fit probe: label ${maxLabel} is not below classes = ${classes}`);
  }
  // Optimise only over the classes present; `column[c]` is class c's column, or −1.
  const column = new Int32Array(classes).fill(-1);
  for (const y of labels) column[y] = 0;
  let k = 0;
  for (let c = 0; c < classes; c++) if (column[c] === 0) column[c] = k++;
  if (k < 2) {
    throw new RangeError(`Cannot fit probe: the labels hold only one class (${labels[0]})`);
  }
  const bytes = 4 * (2 * n * dim + 3 * n * k);
  if (!opts.followScikitLearn && tf.getBackend() === "wasm" && bytes > WASM_MAX_BYTES) {
    throw new RangeError(
      `Cannot fit probe: X and Xᵀ (${n}×${dim}) need ${(bytes / 2 ** 30).toFixed(2)} GiB, ` +
        `more than the wasm backend's 4 GiB memory holds`,
    );
  }

  let mean: Float32Array | null = null, scale: Float32Array | null = null;
  let features = x;
  if (opts.standardize) {
    ({ mean, scale } = _standardizer(x, n, dim));
    features = _standardize(x, dim, mean, scale);
  }
  let result;
  if (opts.followScikitLearn) {
    const targets = Int32Array.from(labels, (y) => column[y]!);
    const objective = _hostObjective(features, targets, dim, k, opts.C);
    result = await lbfgs(objective, new Float64Array((dim + 1) * k), { ...opts, style: "lbfgsb" });
  } else {
    const oneHot = new Float32Array(n * k);
    for (let i = 0; i < n; i++) oneHot[i * k + column[labels[i]!]!] = 1;
    const uploaded: Tensor[] = [];
    try {
      const xs = tf.tensor2d(features, [n, dim]);
      uploaded.push(xs);
      const xT = tf.transpose(xs);
      uploaded.push(xT);
      const ys = tf.tensor2d(oneHot, [n, k]);
      uploaded.push(ys);
      const objective = _objective(xs, xT, ys, n, dim, k, opts.C);
      result = await lbfgs(objective, new Float64Array((dim + 1) * k), opts);
    } finally {
      tf.dispose(uploaded);
    }
  }

  const weights = new Float32Array(dim * classes);
  const bias = new Float32Array(classes).fill(-Infinity);
  for (let c = 0; c < classes; c++) {
    const j = column[c]!;
    if (j < 0) continue;
    for (let d = 0; d < dim; d++) weights[d * classes + c] = result.theta[d * k + j]!;
    bias[c] = result.theta[dim * k + j]!;
  }
  return {
    weights,
    bias,
    mean,
    scale,
    classes,
    dim,
    iterations: result.iterations,
    evaluations: result.evaluations,
    converged: result.gradNorm <= opts.tol,
    stopped: result.stopped,
    gradNorm: result.gradNorm,
    loss: result.f,
    ms: performance.now() - start,
  };
}

/**
 * Predicts the class of each row: the largest of `x·W + b` (after the fit's standardisation).
 *
 * @param fit A fitted probe.
 * @param x Features, `m × fit.dim` row-major.
 * @returns The predicted class of each of the m rows.
 * @throws {RangeError} If `x.length` is not a positive multiple of `fit.dim` or a value is not
 *   finite.
 */
export async function probePredict(fit: ProbeFit, x: Float32Array): Promise<Int32Array> {
  const m = _checkData("score probe", x, null, fit.dim);
  const features = fit.mean && fit.scale ? _standardize(x, fit.dim, fit.mean, fit.scale) : x;
  const predicted = tf.tidy(() => {
    const logits = tf.add(
      tf.matMul(
        tf.tensor2d(features, [m, fit.dim]),
        tf.tensor2d(fit.weights, [fit.dim, fit.classes]),
      ),
      tf.tensor1d(fit.bias),
    );
    return tf.argMax(logits, 1);
  });
  try {
    return new Int32Array(await predicted.data());
  } finally {
    predicted.dispose();
  }
}

/**
 * Fraction of rows whose predicted class is their label.
 *
 * @param fit A fitted probe.
 * @param x Features, `m × fit.dim` row-major.
 * @param labels Class of each of the m rows.
 * @returns Accuracy in [0, 1].
 * @throws {RangeError} If the sizes disagree, there are no rows, or a value is not finite.
 */
export async function probeAccuracy(
  fit: ProbeFit,
  x: Float32Array,
  labels: Uint8Array,
): Promise<number> {
  const m = _checkData("score probe", x, labels, fit.dim);
  const predicted = await probePredict(fit, x);
  let correct = 0;
  for (let i = 0; i < m; i++) if (predicted[i] === labels[i]) correct++;
  return correct / m;
}

/**
 * The scaled objective on uploaded data: `x` `[n, dim]`, its transpose, one-hot `y`
 * `[n, k]`. The device computes the per-sample cross-entropies and the data part of the gradient;
 * the penalty and the sums are added on the host in float64.
 */
function _objective(
  x: Tensor2D,
  xT: Tensor2D,
  y: Tensor2D,
  n: number,
  dim: number,
  k: number,
  C: number,
): Objective {
  const wSize = dim * k;
  return async (theta) => {
    const out = tf.tidy(() => {
      const w = tf.tensor2d(Float32Array.from(theta.subarray(0, wSize)), [dim, k]);
      const b = tf.tensor1d(Float32Array.from(theta.subarray(wSize)));
      // No gradient is taken here, so tf.matMul (no transpose flags) needs no custom gradient.
      const z = tf.add(tf.matMul(x, w), b); // [n, k]
      const lse = tf.logSumExp(z, 1, true); // [n, 1]
      const ce = tf.sub(tf.reshape(lse, [n]), tf.sum(tf.mul(z, y), 1)); // [n]
      const residual = tf.sub(tf.exp(tf.sub(z, lse)), y); // softmax − one-hot, [n, k]
      const gw = tf.matMul(xT, residual); // [dim, k]
      return tf.concat([ce, tf.reshape(gw, [wSize]), tf.sum(residual, 0)]);
    });
    let values: Float32Array;
    try {
      values = (await out.data()) as Float32Array; // the one read-back (a sync point)
    } finally {
      out.dispose();
    }
    let sum = 0, penalty = 0;
    for (let i = 0; i < n; i++) sum += values[i]!;
    for (let j = 0; j < wSize; j++) penalty += theta[j]! * theta[j]!;
    const g = new Float64Array(theta.length);
    for (let j = 0; j < theta.length; j++) g[j] = values[n + j]! / n;
    for (let j = 0; j < wSize; j++) g[j]! += theta[j]! / (C * n);
    return { f: sum / n + penalty / (2 * C * n), g };
  };
}

/**
 * The scaled objective in float64 on the host, as scikit-learn computes it: `x` `[n, dim]` read
 * as float64, class `targets[i]` of each of its n rows, k classes. Zero features are skipped (raw pixels
 * are mostly zero). 2·n·dim·k multiply-adds per evaluation.
 */
function _hostObjective(x: Float32Array, targets: Int32Array, dim: number, k: number, C: number): Objective {
  const n = targets.length, wSize = dim * k;
  const z = new Float64Array(k);
  return (theta) => {
    const g = new Float64Array(theta.length);
    let sum = 0;
    for (let i = 0, o = 0; i < n; i++, o += dim) {
      for (let c = 0; c < k; c++) z[c] = theta[wSize + c]!;
      for (let d = 0; d < dim; d++) {
        const v = x[o + d]!;
        if (v === 0) continue;
        for (let c = 0, w = d * k; c < k; c++) z[c]! += v * theta[w + c]!;
      }
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
      let total = 0;
      for (let c = 0; c < k; c++) total += Math.exp(z[c]! - max);
      const lse = max + Math.log(total);
      sum += lse - z[targets[i]!]!;
      // z becomes the residual softmax − one-hot.
      for (let c = 0; c < k; c++) z[c] = Math.exp(z[c]! - lse) - (c === targets[i] ? 1 : 0);
      for (let d = 0; d < dim; d++) {
        const v = x[o + d]!;
        if (v === 0) continue;
        for (let c = 0, w = d * k; c < k; c++) g[w + c]! += v * z[c]!;
      }
      for (let c = 0; c < k; c++) g[wSize + c]! += z[c]!;
    }
    let penalty = 0;
    for (let j = 0; j < wSize; j++) penalty += theta[j]! * theta[j]!;
    for (let j = 0; j < theta.length; j++) g[j]! /= n;
    for (let j = 0; j < wSize; j++) g[j]! += theta[j]! / (C * n);
    return Promise.resolve({ f: sum / n + penalty / (2 * C * n), g });
  };
}

/** Per-feature mean and standard deviation (1 where it is 0), in float64, rounded to float32. */
function _standardizer(x: Float32Array, n: number, dim: number) {
  const sum = new Float64Array(dim), squares = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let d = 0, o = i * dim; d < dim; d++) sum[d]! += x[o + d]!;
  }
  const mean = Float32Array.from(sum, (s) => s / n);
  for (let i = 0; i < n; i++) {
    for (let d = 0, o = i * dim; d < dim; d++) squares[d]! += (x[o + d]! - mean[d]!) ** 2;
  }
  const scale = Float32Array.from(squares, (s) => Math.sqrt(s / n) || 1);
  return { mean, scale };
}

/** `(x − mean) / scale` per feature; train and test go through this same map. */
function _standardize(x: Float32Array, dim: number, mean: Float32Array, scale: Float32Array) {
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += dim) {
    for (let d = 0; d < dim; d++) out[o + d] = (x[o + d]! - mean[d]!) / scale[d]!;
  }
  return out;
}

/** Checks sizes and values; returns the number of rows. */
function _checkData(
  action: string,
  x: Float32Array,
  labels: Uint8Array | null,
  dim: number,
): number {
  if (!(x instanceof Float32Array)) {
    throw new TypeError(`Cannot ${action}: x must be a Float32Array`);
  }
  if (labels !== null && !(labels instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: labels must be a Uint8Array`);
  }
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`Cannot ${action}: dim must be a positive integer, got ${dim}`);
  }
  const n = labels?.length ?? x.length / dim;
  if (!Number.isInteger(n) || x.length !== n * dim || n === 0) {
    throw new RangeError(
      labels === null
        ? `Cannot ${action}: x has ${x.length} values, not a positive multiple of dim = ${dim}`
        : `Cannot ${action}: x has ${x.length} values, not n·dim = ${n}·${dim} = ${n * dim}`,
    );
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw new RangeError(`Cannot ${action}: x[${i}] (row ${Math.floor(i / dim)}) is ${x[i]}`);
    }
  }
  return n;
}

function _checkOptions(options: ProbeOptions) {
  const opts = { ...DEFAULTS, ...options };
  const check = (ok: boolean, name: string, what: string) => {
    if (!ok) {
      throw new RangeError(
        `Cannot fit probe: ${name} must be ${what}, got ${options[name as keyof ProbeOptions]}`,
      );
    }
  };
  check(opts.C > 0 && Number.isFinite(opts.C), "C", "a positive finite number");
  check(Number.isInteger(opts.maxIter) && opts.maxIter >= 0, "maxIter", "an integer ≥ 0");
  check(opts.tol >= 0, "tol", "a number ≥ 0");
  check(Number.isInteger(opts.memory) && opts.memory >= 1, "memory", "an integer ≥ 1");
  if (opts.classes !== undefined) {
    check(Number.isInteger(opts.classes) && opts.classes >= 2, "classes", "an integer ≥ 2");
  }
  return opts;
}
