import assert from "node:assert/strict";
import { Prng } from "../../src/data/prng.ts";
import { fitProbe, probeAccuracy, probePredict } from "../../src/eval/probe.ts";
import { tf } from "../../src/tf.ts";
import { assertClose, randomValues } from "../helpers.ts";

// wasm is the backend the probe runs on in production.
await tf.setBackend("wasm");

/** `n` points of `k` overlapping Gaussian blobs in `dim` dimensions, label i mod k. */
function blobs(n: number, dim: number, k: number, seed: number, spread = 1) {
  const centres = randomValues(k * dim, seed, 1.5);
  const noise = randomValues(n * dim, seed + 1, spread);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % k);
  const x = noise.map((v, j) => v + centres[labels[Math.floor(j / dim)]! * dim + (j % dim)]!);
  return { x, labels };
}

/**
 * The scaled objective, its gradient and Hessian in float64, straight from the definition:
 * θ[d·k + c] is W[d, c] for d < dim and b[c] for d = dim (x̃ = [x, 1]).
 */
function objective(
  theta: Float64Array,
  x: Float32Array,
  labels: Uint8Array,
  dim: number,
  k: number,
  C = 1,
) {
  const n = labels.length, size = (dim + 1) * k;
  const g = new Float64Array(size);
  const h = Array.from({ length: size }, () => new Float64Array(size));
  let f = 0;
  for (let i = 0; i < n; i++) {
    const xt = [...x.subarray(i * dim, (i + 1) * dim), 1];
    const z = Array.from(
      { length: k },
      (_, c) => xt.reduce((s, v, d) => s + v * theta[d * k + c]!, 0),
    );
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    const p = z.map((v) => Math.exp(v - lse));
    f += lse - z[labels[i]!]!;
    for (let d = 0; d <= dim; d++) {
      for (let c = 0; c < k; c++) {
        g[d * k + c]! += xt[d]! * (p[c]! - (c === labels[i] ? 1 : 0));
        for (let e = 0; e <= dim; e++) {
          for (let c2 = 0; c2 < k; c2++) {
            h[d * k + c]![e * k + c2]! += xt[d]! * xt[e]! * p[c]! * ((c === c2 ? 1 : 0) - p[c2]!);
          }
        }
      }
    }
  }
  let penalty = 0;
  for (let j = 0; j < size; j++) {
    g[j]! /= n;
    for (let j2 = 0; j2 < size; j2++) h[j]![j2]! /= n;
    if (j < dim * k) {
      penalty += theta[j]! ** 2;
      g[j]! += theta[j]! / (C * n);
      h[j]![j]! += 1 / (C * n);
    }
  }
  return { f: f / n + penalty / (2 * C * n), g, h };
}

/** Solves `a·v = r` by Gaussian elimination with partial pivoting (a and r are overwritten). */
function solve(a: Float64Array[], r: Float64Array): Float64Array {
  const m = r.length;
  for (let col = 0; col < m; col++) {
    let pivot = col;
    for (let row = col + 1; row < m; row++) {
      if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    }
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [r[col], r[pivot]] = [r[pivot]!, r[col]!];
    for (let row = col + 1; row < m; row++) {
      const factor = a[row]![col]! / a[col]![col]!;
      for (let j = col; j < m; j++) a[row]![j]! -= factor * a[col]![j]!;
      r[row]! -= factor * r[col]!;
    }
  }
  const v = new Float64Array(m);
  for (let row = m - 1; row >= 0; row--) {
    let s = r[row]!;
    for (let j = row + 1; j < m; j++) s -= a[row]![j]! * v[j]!;
    v[row] = s / a[row]![row]!;
  }
  return v;
}

/**
 * The optimum by damped Newton in float64. The Hessian is singular along "add a constant to every
 * bias" (the intercept is unpenalised); the gradient has no component there, so a tiny ridge only
 * makes the system solvable and the iterates keep Σ b = 0, like the probe's.
 */
function newtonReference(x: Float32Array, labels: Uint8Array, dim: number, k: number) {
  const theta = new Float64Array((dim + 1) * k);
  for (let step = 0; step < 50; step++) {
    const { f, g, h } = objective(theta, x, labels, dim, k);
    if (Math.max(...g.map(Math.abs)) < 1e-14) break;
    h.forEach((row, j) => row[j]! += 1e-12);
    const delta = solve(h, g.map((v) => -v));
    const slope = g.reduce((s, v, j) => s + v * delta[j]!, 0);
    let t = 1;
    const at = (t: number) => theta.map((v, j) => v + t * delta[j]!);
    while (objective(at(t), x, labels, dim, k).f > f + 1e-4 * t * slope && t > 1e-10) t /= 2;
    theta.set(at(t));
  }
  return theta;
}

/** The probe's weights and bias in the reference's layout (classes 0..k−1). */
function asTheta(
  fit: { weights: Float32Array; bias: Float32Array; classes: number },
  dim: number,
  k: number,
) {
  const theta = new Float64Array((dim + 1) * k);
  for (let d = 0; d < dim; d++) {
    for (let c = 0; c < k; c++) theta[d * k + c] = fit.weights[d * fit.classes + c]!;
  }
  for (let c = 0; c < k; c++) theta[dim * k + c] = fit.bias[c]!;
  return theta;
}

Deno.test("fitProbe() matches a float64 Newton solve on overlapping blobs", async () => {
  const dim = 5, k = 3;
  const { x, labels } = blobs(200, dim, k, 7);
  const fit = await fitProbe(x, labels, dim, { classes: k, tol: 1e-7 });
  assert.ok(fit.converged, `not converged: gradNorm ${fit.gradNorm} after ${fit.iterations}`);
  assert.equal(fit.stopped, "tolerance");
  assert.ok(fit.gradNorm <= 1e-7);
  const reference = newtonReference(x, labels, dim, k);
  const ours = asTheta(fit, dim, k);
  // Not separable: the data term, not only the penalty, holds the weights (training accuracy < 1).
  assert.ok((await probeAccuracy(fit, x, labels)) < 0.95);
  assertClose(ours.subarray(0, dim * k), reference.subarray(0, dim * k), 1e-4, "weights");
  assertClose(ours.subarray(dim * k), reference.subarray(dim * k), 1e-4, "bias");
  const atOurs = objective(ours, x, labels, dim, k);
  assert.ok(Math.max(...atOurs.g.map(Math.abs)) < 1e-6, "float64 gradient at the probe's optimum");
  assert.ok(Math.abs(fit.loss - atOurs.f) < 1e-6, `loss ${fit.loss} vs float64 ${atOurs.f}`);
});

Deno.test("fitProbe() converges to finite weights on separable data thanks to the L2 term", async () => {
  // Three tight clusters at the corners of a triangle: the unpenalised problem has no minimum.
  const noise = randomValues(60 * 2, 11, 0.2);
  const labels = Uint8Array.from({ length: 60 }, (_, i) => i % 3);
  const x = noise.map((v, j) => v + 3 * [Math.cos, Math.sin][j % 2]!(2 * Math.PI * labels[j >> 1]! / 3));
  const fit = await fitProbe(x, labels, 2, { classes: 3 });
  assert.ok(fit.converged);
  assert.ok([...fit.weights, ...fit.bias].every(Number.isFinite));
  assert.equal(await probeAccuracy(fit, x, labels), 1);
  // Scaling W up would keep the data term falling; the penalty stops it at a norm that grows
  // with C.
  assert.ok(Math.hypot(...fit.weights) < 10);
  const tighter = await fitProbe(x, labels, 2, { classes: 3, C: 100 });
  assert.ok(tighter.converged);
  assert.ok(Math.hypot(...tighter.weights) > 1.5 * Math.hypot(...fit.weights));
});

Deno.test("fitProbe() gives bit-identical weights on repeated fits", async (t) => {
  const { x, labels } = blobs(300, 8, 4, 3);
  for (const backend of ["wasm", "cpu"]) {
    await t.step(backend, async () => {
      await tf.setBackend(backend);
      try {
        const a = await fitProbe(x, labels, 8, { standardize: true });
        const b = await fitProbe(x, labels, 8, { standardize: true });
        assert.deepEqual(a.weights, b.weights);
        assert.deepEqual(a.bias, b.bias);
        assert.equal(a.evaluations, b.evaluations);
      } finally {
        await tf.setBackend("wasm");
      }
    });
  }
});

Deno.test("fitProbe() and probeAccuracy() leave the tensor count unchanged", async () => {
  const { x, labels } = blobs(100, 4, 3, 5);
  await probeAccuracy(await fitProbe(x, labels, 4, { maxIter: 2 }), x, labels); // warm-up
  const before = tf.memory().numTensors;
  const fit = await fitProbe(x, labels, 4);
  assert.equal(tf.memory().numTensors, before);
  await probeAccuracy(fit, x, labels);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("fitProbe() gives absent classes zero weights and a −∞ bias", async () => {
  const { x, labels } = blobs(90, 3, 3, 13);
  const shifted = labels.map((y) => [1, 4, 6][y]!);
  const fit = await fitProbe(x, shifted, 3);
  assert.equal(fit.classes, 10);
  const three = await fitProbe(x, labels, 3, { classes: 3 });
  for (let c = 0; c < 10; c++) {
    const column = [0, 1, 2].map((d) => fit.weights[d * 10 + c]!);
    const j = [1, 4, 6].indexOf(c);
    if (j < 0) {
      assert.deepEqual(column, [0, 0, 0]);
      assert.equal(fit.bias[c], -Infinity);
    } else {
      // The same problem in the same order, so the same bits.
      assert.deepEqual(column, [0, 1, 2].map((d) => three.weights[d * 3 + j]!));
      assert.equal(fit.bias[c], three.bias[j]);
    }
  }
  const predicted = await probePredict(fit, x);
  assert.ok(predicted.every((p) => [1, 4, 6].includes(p)));
});

Deno.test("fitProbe() reports non-convergence instead of throwing", async () => {
  const { x, labels } = blobs(100, 4, 3, 5);
  const fit = await fitProbe(x, labels, 4, { maxIter: 3 });
  assert.equal(fit.iterations, 3);
  assert.equal(fit.converged, false);
  assert.equal(fit.stopped, "maxIter");
  assert.ok(fit.gradNorm > 1e-5);
});

Deno.test("fitProbe() and probeAccuracy() reject bad input", async (t) => {
  const { x, labels } = blobs(10, 2, 2, 1);
  const rejects = (
    name: string,
    f: () => Promise<unknown>,
    type: ErrorConstructor,
    message: RegExp,
  ) =>
    t.step(
      name,
      () => assert.rejects(f, (e: Error) => e instanceof type && message.test(e.message)),
    );
  await rejects(
    "length",
    () => fitProbe(x.subarray(1), labels, 2),
    RangeError,
    /^Cannot fit probe: x has 19 values, not n·dim = 10·2 = 20$/,
  );
  await rejects(
    "dim",
    () => fitProbe(x, labels, 0),
    RangeError,
    /dim must be a positive integer, got 0/,
  );
  await rejects(
    "one sample",
    () => fitProbe(x.subarray(0, 2), labels.subarray(0, 1), 2),
    RangeError,
    /at least 2 samples, got 1/,
  );
  await rejects(
    "one class",
    () => fitProbe(x, new Uint8Array(10).fill(3), 2),
    RangeError,
    /only one class \(3\)/,
  );
  await rejects(
    "label",
    () => fitProbe(x, labels, 2, { classes: 1 }),
    RangeError,
    /classes must be an integer ≥ 2, got 1/,
  );
  await rejects(
    "label range",
    () => fitProbe(x, labels.map((y) => y * 5), 2, { classes: 3 }),
    RangeError,
    /label 5 is not below classes = 3/,
  );
  const nan = x.slice();
  nan[7] = NaN;
  await rejects("NaN", () => fitProbe(nan, labels, 2), RangeError, /x\[7\] \(row 3\) is NaN/);
  const inf = x.slice();
  inf[0] = -Infinity;
  await rejects(
    "Infinity",
    () => fitProbe(inf, labels, 2),
    RangeError,
    /x\[0\] \(row 0\) is -Infinity/,
  );
  await rejects(
    "C",
    () => fitProbe(x, labels, 2, { C: 0 }),
    RangeError,
    /C must be a positive finite number, got 0/,
  );
  await rejects(
    "maxIter",
    () => fitProbe(x, labels, 2, { maxIter: 1.5 }),
    RangeError,
    /maxIter must be an integer ≥ 0/,
  );
  await rejects(
    "tol",
    () => fitProbe(x, labels, 2, { tol: NaN }),
    RangeError,
    /tol must be a number ≥ 0, got NaN/,
  );
  await rejects(
    "memory",
    () => fitProbe(x, labels, 2, { memory: 0 }),
    RangeError,
    /memory must be an integer ≥ 1/,
  );
  await rejects(
    "x type",
    () => fitProbe([...x] as unknown as Float32Array, labels, 2),
    TypeError,
    /x must be a Float32Array/,
  );
  await rejects(
    "labels type",
    () => fitProbe(x, [...labels] as unknown as Uint8Array, 2),
    TypeError,
    /labels must be a Uint8Array/,
  );
  const fit = await fitProbe(x, labels, 2);
  await rejects(
    "score length",
    () => probeAccuracy(fit, x, labels.subarray(1)),
    RangeError,
    /^Cannot score probe: x has 20 values, not n·dim = 9·2 = 18$/,
  );
  await rejects(
    "score empty",
    () => probeAccuracy(fit, new Float32Array(0), new Uint8Array(0)),
    RangeError,
    /x has 0 values/,
  );
  await rejects(
    "predict length",
    () => probePredict(fit, x.subarray(1)),
    RangeError,
    /not a positive multiple of dim = 2/,
  );
  await rejects(
    "score NaN",
    () => probeAccuracy(fit, nan, labels),
    RangeError,
    /x\[7\] \(row 3\) is NaN/,
  );
});

Deno.test("fitProbe() with standardize is invariant to per-feature affine maps", async () => {
  const dim = 6;
  const { x, labels } = blobs(240, dim, 4, 17, 1.5);
  const rng = Prng.fromSeed(5, "affine");
  const factor = Array.from(
    { length: dim },
    (_, d) => (d % 2 ? -1 : 1) * 10 ** (4 * rng.nextFloat() - 2),
  );
  const offset = Array.from({ length: dim }, () => 100 * rng.nextNormal());
  const mapped = x.map((v, j) => factor[j % dim]! * v + offset[j % dim]!);
  const fit = await fitProbe(x, labels, dim, { standardize: true, tol: 1e-7 });
  const fitMapped = await fitProbe(mapped, labels, dim, { standardize: true, tol: 1e-7 });
  assert.ok(fit.converged && fitMapped.converged);
  assert.deepEqual(await probePredict(fitMapped, mapped), await probePredict(fit, x));
  // In standardised coordinates the map is a sign flip per feature.
  const flipped = fit.weights.map((w, j) => Math.sign(factor[Math.floor(j / fit.classes)]!) * w);
  assertClose(fitMapped.weights, flipped, 1e-4, "weights");
  assertClose(
    fitMapped.mean!,
    Float32Array.from(fit.mean!, (m, d) => factor[d]! * m + offset[d]!),
    1e-5,
    "mean",
  );
  // Unstandardised, the penalty sees the scales: the fit changes.
  const raw = await fitProbe(mapped, labels, dim, { maxIter: 50 });
  assert.notDeepEqual(raw.weights, fitMapped.weights);
});

Deno.test("fitProbe() with standardize only centres a constant feature", async () => {
  const { x, labels } = blobs(60, 3, 3, 19);
  for (let i = 0; i < 60; i++) x[i * 3 + 1] = 4.5;
  const fit = await fitProbe(x, labels, 3, { standardize: true, classes: 3 });
  assert.ok(fit.converged);
  assert.equal(fit.mean![1], 4.5);
  assert.equal(fit.scale![1], 1);
  // A feature that is 0 after centring gets no gradient but the penalty's: its weights stay 0.
  assert.deepEqual([...fit.weights.subarray(3, 6)], [0, 0, 0]);
});
