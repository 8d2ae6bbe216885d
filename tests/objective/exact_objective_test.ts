import assert from "node:assert/strict";
import { exactObjective } from "../../src/objective/exact_objective.ts";
import { tf } from "../../src/tf.ts";
import { randomValues } from "../helpers.ts";

await tf.setBackend("wasm");

/** `rows` random unit vectors of `dim` entries, in float64. */
function unitRows(rows: number, dim: number, seed: number): number[][] {
  const v = randomValues(rows * dim, seed, 1);
  return Array.from({ length: rows }, (_, r) => {
    const row = [...v.subarray(r * dim, (r + 1) * dim)];
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
}

/** Objective (2) and H(T|X) straight from their definitions, in float64. */
function reference(z: number[][], p: number[], n: number, t: number, beta: number) {
  const k = (a: number, b: number) => Math.exp(beta * z[a]!.reduce((s, v, j) => s + v * z[b]![j]!, 0));
  let objective = 0, entropy = 0;
  for (let img = 0; img < n; img++) {
    for (let c = 0; c < t; c++) {
      const row = img * t + c, pr = p[row]!;
      if (pr === 0) continue;
      let own = 0, all = 0;
      for (let u = 0; u < t; u++) own += p[img * t + u]! * k(row, img * t + u);
      for (let m = 0; m < n * t; m++) all += p[m]! * k(row, m);
      objective += pr * (Math.log(own) - Math.log(all / n));
      entropy -= pr * Math.log(pr);
    }
  }
  return { objective: objective / n, entropy: entropy / n };
}

Deno.test("exactObjective() equals objective (2) and H(T|X) computed from their definitions in float64", async () => {
  // 11 images: more than one block of rows. 9 crops each, as on original MNIST.
  const n = 11, t = 9, dim = 6, beta = 0.5;
  const z = unitRows(n * t, dim, 5);
  const weights = randomValues(n * t, 6, 1).map(Math.abs);
  const softish = Float32Array.from(weights, (w, r) => {
    const img = Math.floor(r / t);
    const total = weights.subarray(img * t, (img + 1) * t).reduce((a, b) => a + b, 0);
    return w / total;
  });
  const oneCrop = Float32Array.from({ length: n * t }, (_, r) => (r % t === (Math.floor(r / t) * 4) % t ? 1 : 0));
  const uniform = new Float32Array(n * t).fill(1 / t);
  const zt = tf.tensor2d(z.flat(), [n * t, dim]);
  const before = tf.memory().numTensors;
  const got = await exactObjective(zt, [softish, oneCrop, uniform], t, beta);
  assert.equal(tf.memory().numTensors, before);
  zt.dispose();
  for (const [k, p] of [softish, oneCrop, uniform].entries()) {
    const want = reference(z, [...p], n, t, beta);
    assert.ok(
      Math.abs(got.objective[k]! - want.objective) < 1e-5,
      `I of ${k}: ${got.objective[k]} vs ${want.objective}`,
    );
    assert.ok(Math.abs(got.entropy[k]! - want.entropy) < 1e-6, `H of ${k}`);
  }
  // One crop per image: the numerator is its own term, β, whichever crop it is.
  const denominators = Array.from({ length: n }, (_, img) => {
    const row = img * t + (img * 4) % t;
    const sum = Array.from({ length: n }, (_, m) => m * t + (m * 4) % t)
      .reduce((s, other) => s + Math.exp(beta * z[row]!.reduce((a, v, j) => a + v * z[other]![j]!, 0)), 0);
    return Math.log(sum / n);
  });
  const expected = beta - denominators.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(got.objective[1]! - expected) < 1e-5);
  assert.equal(got.entropy[1], 0);
});

Deno.test("exactObjective() rejects distributions of the wrong size", async () => {
  const z = tf.zeros([18, 4]) as tf.Tensor2D;
  await assert.rejects(
    exactObjective(z, [new Float32Array(17)], 9, 1),
    /Cannot use distribution 0: 17 values for 2 × 9 crops/,
  );
  await assert.rejects(exactObjective(z, [], 7, 1), /Cannot read 18 embeddings as images of 7 crops/);
  z.dispose();
});
