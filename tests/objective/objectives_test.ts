import assert from "node:assert/strict";
import { jensenLoss } from "../../src/objective/hstep.ts";
import { groupMasks } from "../../src/objective/masks.ts";
import { policyLoss } from "../../src/objective/pstep.ts";
import { Prng } from "../../src/data/prng.ts";
import { type Tensor2D, tf } from "../../src/tf.ts";
import { onBackend, randomValues } from "../helpers.ts";
import { TEST_BACKENDS } from "../webgpu.ts";

await tf.setBackend("cpu");

Deno.test("groupMasks() marks each pair of samples as itself, the same image or another image", async () => {
  const groups = 3, k = 4, b = groups * k;
  for (const backend of TEST_BACKENDS) {
    const [self, same, other] = await onBackend(backend, () => {
      const masks = groupMasks(groups, k);
      return [masks.self, masks.same, masks.other];
    });
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < b; j++) {
        const kind = i === j ? 0 : Math.floor(i / k) === Math.floor(j / k) ? 1 : 2;
        const got = [self![i * b + j], same![i * b + j], other![i * b + j]];
        assert.deepEqual(got, [0, 1, 2].map((c) => (c === kind ? 1 : 0)), `${backend}: (${i}, ${j})`);
      }
    }
  }
});

/** Rows of unit vectors, as nested float64 arrays. */
function unitRows(rows: number, dim: number, seed: number): number[][] {
  const v = randomValues(rows * dim, seed);
  return Array.from({ length: rows }, (_, i) => {
    const row = [...v.subarray(i * dim, (i + 1) * dim)];
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

/** The h-step bound written per sample, straight from the definition. */
function jensenReference(z: number[][], m: number, beta: number): number {
  const b = z.length;
  let total = 0;
  for (let i = 0; i < b; i++) {
    const img = Math.floor(i / m);
    let pos = 0;
    const neg: number[] = [];
    for (let j = 0; j < b; j++) {
      if (j === i) continue;
      const s = beta * dot(z[i]!, z[j]!);
      if (Math.floor(j / m) === img) pos += s / (m - 1);
      neg.push(s);
    }
    total += pos - (logSumExp(neg) - Math.log(b - 1));
  }
  return -total / b;
}

/** The P-step loss written per sample, straight from the definition in pstep.ts. */
function policyReference(
  logits: number[][],
  crops: number[],
  z: number[][],
  beta: number,
  lambda: number,
): number {
  const n = logits.length;
  const k = crops.length / n;
  const logProbs = logits.map((row) => row.map((x) => x - logSumExp(row)));
  const p = (i: number) => Math.exp(logProbs[Math.floor(i / k)]![crops[i]!]!);
  const w = crops.map((_, i) => {
    const img = Math.floor(i / k);
    let total = 0;
    for (let j = img * k; j < (img + 1) * k; j++) total += p(j);
    return p(i) / total;
  });
  let objective = 0;
  for (let i = 0; i < n * k; i++) {
    const img = Math.floor(i / k);
    let own = 0, ownWeight = 0, rest = 0;
    for (let j = 0; j < n * k; j++) {
      if (j === i) continue;
      const e = Math.exp(beta * dot(z[i]!, z[j]!));
      if (Math.floor(j / k) === img) {
        own += w[j]! * e;
        ownWeight += w[j]!;
      } else rest += w[j]! * e;
    }
    const num = Math.log(own / ownWeight);
    const den = Math.log((rest + own / ownWeight) / n);
    objective += w[i]! * (num - den) / n;
  }
  const entropy = logProbs.reduce(
    (s, row) => s - row.reduce((t, lp) => t + Math.exp(lp) * lp, 0),
    0,
  ) / n;
  return -objective - lambda * entropy;
}

Deno.test("jensenLoss() equals the per-sample definition", () => {
  for (const [n, m, beta] of [[3, 4, 0.5], [5, 8, 1.0], [2, 2, 0.5]] as const) {
    const z = unitRows(n * m, 6, n * 10 + m);
    const actual = tf.tidy(() => jensenLoss(tf.tensor2d(z), m, beta).dataSync()[0]!);
    const expected = jensenReference(z, m, beta);
    assert.ok(Math.abs(actual - expected) < 1e-5, `N=${n} m=${m}: ${actual} vs ${expected}`);
  }
});

Deno.test("jensenLoss() with m = 2 is SimCLR's NT-Xent at temperature 1/β minus log(2N − 1)", () => {
  const n = 6, beta = 0.5;
  const z = unitRows(2 * n, 5, 77);
  let ntXent = 0;
  for (let i = 0; i < 2 * n; i++) {
    const positive = i ^ 1; // crops 2n and 2n+1 are the pair
    const others = z.flatMap((zk, k) => (k === i ? [] : [dot(z[i]!, zk) * beta]));
    ntXent += -beta * dot(z[i]!, z[positive]!) + logSumExp(others);
  }
  ntXent /= 2 * n;
  const actual = tf.tidy(() => jensenLoss(tf.tensor2d(z), 2, beta).dataSync()[0]!);
  assert.ok(Math.abs(actual - (ntXent - Math.log(2 * n - 1))) < 1e-5);
});

Deno.test("jensenLoss() rejects batches it cannot score", () => {
  assert.throws(() => jensenLoss(tf.zeros([8, 3]) as Tensor2D, 1, 0.5), RangeError);
  assert.throws(() => jensenLoss(tf.zeros([8, 3]) as Tensor2D, 3, 0.5), RangeError);
  assert.throws(() => jensenLoss(tf.zeros([8, 3]) as Tensor2D, 8, 0.5), /at least 2 images/);
});

function policyCase(n: number, k: number, cropCount: number, seed: number) {
  const rng = Prng.fromSeed(seed, "case");
  const logits = Array.from({ length: n }, () => Array.from({ length: cropCount }, () => 2 * rng.nextNormal()));
  const crops = Array.from({ length: n * k }, () => rng.nextInt(cropCount));
  const z = unitRows(n * k, 4, seed);
  return { logits, crops, z };
}

function policyLossTf(logits: number[][], crops: number[], z: number[][], beta: number, lambda: number) {
  const zt = tf.tensor2d(z);
  const sims = tf.mul(tf.matMul(zt, zt, false, true), beta) as Tensor2D;
  return policyLoss(tf.logSoftmax(tf.tensor2d(logits)), Int32Array.from(crops), sims, lambda);
}

Deno.test("policyLoss() equals the per-sample definition", () => {
  for (const [n, k, cropCount, lambda] of [[3, 4, 9, 0.0025], [4, 8, 289, 0.01], [2, 2, 5, 0]] as const) {
    const { logits, crops, z } = policyCase(n, k, cropCount, n * 100 + k);
    const actual = tf.tidy(() => policyLossTf(logits, crops, z, 0.5, lambda).loss.dataSync()[0]!);
    const expected = policyReference(logits, crops, z, 0.5, lambda);
    assert.ok(Math.abs(actual - expected) < 1e-5, `N=${n} k=${k}: ${actual} vs ${expected}`);
  }
});

Deno.test("policyLoss() gradient with respect to the logits matches finite differences", () => {
  const n = 3, k = 4, cropCount = 7, beta = 0.5, lambda = 0.05;
  const { logits, crops, z } = policyCase(n, k, cropCount, 5);
  const grad = tf.tidy(() =>
    tf.grad((l: tf.Tensor) => {
      const zt = tf.tensor2d(z);
      const sims = tf.mul(tf.matMul(zt, zt, false, true), beta) as Tensor2D;
      return policyLoss(tf.logSoftmax(l as Tensor2D), Int32Array.from(crops), sims, lambda).loss;
    })(tf.tensor2d(logits)).arraySync() as number[][]
  );
  const h = 1e-5;
  let worst = 0, scale = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < cropCount; c++) {
      const shifted = (d: number) => logits.map((row, i) => row.map((x, j) => (i === r && j === c ? x + d : x)));
      const fd =
        (policyReference(shifted(h), crops, z, beta, lambda) - policyReference(shifted(-h), crops, z, beta, lambda)) /
        (2 * h);
      worst = Math.max(worst, Math.abs(fd - grad[r]![c]!));
      scale = Math.max(scale, Math.abs(fd));
    }
  }
  assert.ok(scale > 1e-3, "the gradient should not vanish");
  assert.ok(worst / scale < 1e-4, `relative error ${worst / scale}`);
});

Deno.test("policyLoss() with uniform P reduces to the unweighted objective and maximal entropy", () => {
  const n = 3, k = 4, cropCount = 9, beta = 1;
  const { crops, z } = policyCase(n, k, cropCount, 9);
  const uniform = Array.from({ length: n }, () => new Array(cropCount).fill(0));
  const parts = tf.tidy(() => {
    const out = policyLossTf(uniform, crops, z, beta, 0);
    return { objective: out.objective.dataSync()[0]!, entropy: out.entropy.dataSync()[0]! };
  });
  assert.ok(Math.abs(parts.entropy - Math.log(cropCount)) < 1e-5);
  // Uniform weights: num = log mean over own other crops; den = log mean over images of the
  // per-image mean (own image without the sample itself).
  let objective = 0;
  for (let i = 0; i < n * k; i++) {
    const img = Math.floor(i / k);
    const means = Array.from({ length: n }, (_, m) => {
      const js = Array.from({ length: k }, (_, t) => m * k + t).filter((j) => j !== i);
      return js.reduce((s, j) => s + Math.exp(beta * dot(z[i]!, z[j]!)), 0) / js.length;
    });
    objective += (Math.log(means[img]!) - Math.log(means.reduce((a, b) => a + b) / n)) / (n * k);
  }
  assert.ok(Math.abs(parts.objective - objective) < 1e-5);
});
