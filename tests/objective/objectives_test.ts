import assert from "node:assert/strict";
import { jensenLoss } from "../../src/objective/hstep.ts";
import { blockMask, groupMasks } from "../../src/objective/masks.ts";
import { exactNumeratorPolicyLoss, exactOwnPolicyLoss, sampledPolicyLoss } from "../../src/objective/pstep.ts";
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
  self = false,
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
  return -policyObjectiveReference(n, k, w, z, beta, self) - lambda * entropyReference(logProbs);
}

function policyObjectiveReference(n: number, k: number, w: number[], z: number[][], beta: number, self: boolean) {
  let objective = 0;
  for (let i = 0; i < n * k; i++) {
    const img = Math.floor(i / k);
    let own = 0, ownWeight = 0, rest = 0;
    for (let j = 0; j < n * k; j++) {
      if (j === i && !self) continue;
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
  return objective;
}

/** H(T|X): the mean over images of −Σ_t P(t|x) log P(t|x). */
function entropyReference(logProbs: number[][]): number {
  return logProbs.reduce((s, row) => s - row.reduce((t, lp) => t + Math.exp(lp) * lp, 0), 0) / logProbs.length;
}

/** log P, P, and the drawn crops' weights self-normalised within each image. */
function drawnWeightsReference(logits: number[][], crops: number[]) {
  const k = crops.length / logits.length;
  const logProbs = logits.map((row) => row.map((x) => x - logSumExp(row)));
  const p = logProbs.map((row) => row.map(Math.exp));
  const drawnP = crops.map((c, j) => p[Math.floor(j / k)]![c]!);
  const w = drawnP.map((q, j) => {
    const m = Math.floor(j / k);
    return q / drawnP.slice(m * k, (m + 1) * k).reduce((a, b) => a + b, 0);
  });
  return { logProbs, p, w };
}

/**
 * The exact-own estimator's loss, straight from the definition in pstep.ts, in log space: every crop t
 * of image n (embedding z[n·T + t]) in the outer sum and the numerator, the drawn crops of the
 * other images in the denominator. The similarities do not depend on the logits: `exactOwnCase`
 * computes them once.
 */
function exactOwnReference(
  logits: number[][],
  crops: number[],
  sims: { own: Float64Array; other: Float64Array },
  lambda: number,
  self: boolean,
): number {
  const n = logits.length, cropCount = logits[0]!.length, k = crops.length / n;
  const { logProbs, p, w } = drawnWeightsReference(logits, crops);
  let objective = 0;
  for (let m = 0; m < n; m++) {
    for (let t = 0; t < cropCount; t++) {
      const us = [...Array(cropCount).keys()].filter((u) => self || u !== t);
      const own = (u: number) => sims.own[(m * cropCount + t) * cropCount + u]!;
      const a = logSumExp(us.map((u) => logProbs[m]![u]! + own(u))) - logSumExp(us.map((u) => logProbs[m]![u]!));
      let rest = 0;
      for (let j = 0; j < n * k; j++) {
        if (Math.floor(j / k) !== m) rest += w[j]! * Math.exp(sims.other[(m * cropCount + t) * n * k + j]!);
      }
      const d = Math.log((rest + Math.exp(a)) / n);
      objective += p[m]![t]! * (a - d) / n;
    }
  }
  return -objective - lambda * entropyReference(logProbs);
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

function sampledLossTf(logits: number[][], crops: number[], z: number[][], beta: number, lambda: number) {
  const zt = tf.tensor2d(z);
  const sims = tf.mul(tf.matMul(zt, zt, false, true), beta) as Tensor2D;
  return sampledPolicyLoss(tf.logSoftmax(tf.tensor2d(logits)), Int32Array.from(crops), sims, lambda);
}

Deno.test("sampledPolicyLoss() equals the per-sample definition", () => {
  for (const [n, k, cropCount, lambda] of [[3, 4, 9, 0.0025], [4, 8, 289, 0.01], [2, 2, 5, 0]] as const) {
    const { logits, crops, z } = policyCase(n, k, cropCount, n * 100 + k);
    const actual = tf.tidy(() => sampledLossTf(logits, crops, z, 0.5, lambda).loss.dataSync()[0]!);
    const expected = policyReference(logits, crops, z, 0.5, lambda);
    assert.ok(Math.abs(actual - expected) < 1e-5, `N=${n} k=${k}: ${actual} vs ${expected}`);
  }
});

Deno.test("sampledPolicyLoss() gradient with respect to the logits matches finite differences", () => {
  const n = 3, k = 4, cropCount = 7, beta = 0.5, lambda = 0.05;
  const { logits, crops, z } = policyCase(n, k, cropCount, 5);
  const grad = tf.tidy(() =>
    tf.grad((l: tf.Tensor) => {
      const zt = tf.tensor2d(z);
      const sims = tf.mul(tf.matMul(zt, zt, false, true), beta) as Tensor2D;
      return sampledPolicyLoss(tf.logSoftmax(l as Tensor2D), Int32Array.from(crops), sims, lambda).loss;
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

Deno.test("sampledPolicyLoss() with uniform P reduces to the unweighted objective and maximal entropy", () => {
  const n = 3, k = 4, cropCount = 9, beta = 1;
  const { crops, z } = policyCase(n, k, cropCount, 9);
  const uniform = Array.from({ length: n }, () => new Array(cropCount).fill(0));
  const parts = tf.tidy(() => {
    const out = sampledLossTf(uniform, crops, z, beta, 0);
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

Deno.test("sampledPolicyLoss() with the own term kept equals its definition", () => {
  for (const [n, k, cropCount] of [[3, 4, 9], [4, 8, 289]] as const) {
    const { logits, crops, z } = policyCase(n, k, cropCount, n * 7 + k);
    const actual = tf.tidy(() => {
      const zt = tf.tensor2d(z);
      const sims = tf.mul(tf.matMul(zt, zt, false, true), 0.5) as Tensor2D;
      return sampledPolicyLoss(tf.logSoftmax(tf.tensor2d(logits)), Int32Array.from(crops), sims, 0.0025, { self: true })
        .loss.dataSync()[0]!;
    });
    const expected = policyReference(logits, crops, z, 0.5, 0.0025, true);
    const without = policyReference(logits, crops, z, 0.5, 0.0025, false);
    assert.ok(Math.abs(actual - expected) < 1e-5, `N=${n} k=${k}: ${actual} vs ${expected}`);
    assert.ok(Math.abs(expected - without) > 1e-3, "the own term should change the loss");
  }
});

Deno.test("blockMask() marks the pairs of different groups", async () => {
  const groups = 3, rows = 4, cols = 2;
  for (const backend of TEST_BACKENDS) {
    const [mask] = await onBackend(backend, () => blockMask(groups, rows, cols));
    const expected = Array.from(
      { length: groups * rows * groups * cols },
      (_, at) =>
        Math.floor(Math.floor(at / (groups * cols)) / rows) === Math.floor((at % (groups * cols)) / cols) ? 0 : 1,
    );
    assert.deepEqual([...mask!], expected, backend);
  }
});

/** A tiny exact-estimator case: `n` images with every one of `cropCount` crops embedded. */
function exactOwnCase(n: number, k: number, cropCount: number, seed: number, beta: number, z?: number[][]) {
  const rng = Prng.fromSeed(seed, "exact");
  // Peaked logits, so that one image puts most of its mass on one crop (where 1 − p would lose
  // precision).
  const logits = Array.from(
    { length: n },
    (_, m) => Array.from({ length: cropCount }, (_, t) => 2 * rng.nextNormal() + (m === 0 && t === 5 ? 12 : 0)),
  );
  const crops = Array.from({ length: n * k }, () => rng.nextInt(cropCount));
  const zs = z ?? unitRows(n * cropCount, 4, seed);
  const own = new Float64Array(n * cropCount * cropCount);
  const other = new Float64Array(n * cropCount * n * k);
  for (let m = 0; m < n; m++) {
    for (let t = 0; t < cropCount; t++) {
      const zt = zs[m * cropCount + t]!;
      for (let u = 0; u < cropCount; u++) {
        own[(m * cropCount + t) * cropCount + u] = beta * dot(zt, zs[m * cropCount + u]!);
      }
      for (let j = 0; j < n * k; j++) {
        other[(m * cropCount + t) * n * k + j] = beta * dot(zt, zs[Math.floor(j / k) * cropCount + crops[j]!]!);
      }
    }
  }
  return { logits, crops, z: zs, sims: { own, other } };
}

function exactOwnLossTf(
  { logits, crops, z }: { logits: number[][]; crops: number[]; z: number[][] },
  beta: number,
  lambda: number,
  self: boolean,
) {
  const n = logits.length, cropCount = logits[0]!.length, k = crops.length / n;
  const zt = tf.tensor2d(z);
  const perImage = tf.reshape(zt, [n, cropCount, z[0]!.length]);
  const own = tf.exp(tf.mul(tf.matMul(perImage, perImage, false, true), beta)) as tf.Tensor3D;
  const drawn = crops.map((c, j) => Math.floor(j / k) * cropCount + c);
  const other = tf.exp(tf.mul(tf.matMul(zt, tf.gather(zt, drawn), false, true), beta)) as Tensor2D;
  return (l: Tensor2D) => exactOwnPolicyLoss(tf.logSoftmax(l), own, Int32Array.from(crops), other, lambda, { self });
}

Deno.test("exactOwnPolicyLoss() equals its definition over all 289 crops of a few images", () => {
  for (const self of [false, true]) {
    for (const [n, k, lambda] of [[3, 4, 0.0025], [4, 2, 0.01]] as const) {
      const { logits, crops, z, sims } = exactOwnCase(n, k, 289, n * 31 + k, 0.5);
      const out = tf.tidy(() => {
        const o = exactOwnLossTf({ logits, crops, z }, 0.5, lambda, self)(tf.tensor2d(logits));
        return [o.loss.dataSync()[0]!, o.entropy.dataSync()[0]!];
      });
      const expected = exactOwnReference(logits, crops, sims, lambda, self);
      assert.ok(Math.abs(out[0]! - expected) < 2e-5, `self=${self} N=${n}: ${out[0]} vs ${expected}`);
      const entropy = entropyReference(logits.map((row) => row.map((x) => x - logSumExp(row))));
      assert.ok(Math.abs(out[1]! - entropy) < 1e-4, `entropy ${out[1]} vs ${entropy}`);
    }
  }
});

Deno.test("exactOwnPolicyLoss() gradient with respect to the logits matches finite differences of its definition", () => {
  const n = 3, k = 3, cropCount = 289, beta = 0.5, lambda = 0.05;
  const { logits, crops, z, sims } = exactOwnCase(n, k, cropCount, 17, beta);
  for (const self of [false, true]) {
    const grad = tf.tidy(() =>
      tf.grad((l: tf.Tensor) => exactOwnLossTf({ logits, crops, z }, beta, lambda, self)(l as Tensor2D).loss)(
        tf.tensor2d(logits),
      ).arraySync() as number[][]
    );
    const h = 1e-4;
    let worst = 0, scale = 0;
    // Crops of each image, the peaked one and the drawn ones among them (their P weights the
    // denominator).
    const entries = [
      ...[0, 5, 100, 288].map((c) => [0, c] as const),
      ...crops.map((c, j) => [Math.floor(j / k), c] as const),
    ];
    for (let c = 0; c < cropCount; c += 37) entries.push([1, c]);
    for (const [r, c] of entries) {
      const shifted = (d: number) => logits.map((row, i) => row.map((x, j) => (i === r && j === c ? x + d : x)));
      const fd = (exactOwnReference(shifted(h), crops, sims, lambda, self) -
        exactOwnReference(shifted(-h), crops, sims, lambda, self)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - grad[r]![c]!));
      scale = Math.max(scale, Math.abs(fd));
    }
    assert.ok(scale > 1e-4, "the gradient should not vanish");
    assert.ok(worst / scale < 2e-3, `self=${self}: relative error ${worst / scale}`);
  }
});

Deno.test("exactOwnPolicyLoss() with uniform P and equal embeddings within each image is the sampled loss's value", () => {
  // When every crop of an image embeds to one point, every estimator sees the same numerator and
  // denominator: log e^β − log 1/N (e^β + Σ_{m ≠ n} e^{β zₙᵀzₘ}).
  const n = 3, k = 2, cropCount = 9, beta = 0.5;
  const points = unitRows(n, 4, 3);
  const z = Array.from({ length: n * cropCount }, (_, i) => points[Math.floor(i / cropCount)]!);
  const logits = Array.from({ length: n }, () => new Array(cropCount).fill(0));
  const crops = Array.from({ length: n * k }, (_, i) => i % cropCount);
  const actual = tf.tidy(() =>
    exactOwnLossTf({ logits, crops, z }, beta, 0, false)(tf.tensor2d(logits)).objective.dataSync()[0]!
  );
  let expected = 0;
  for (let m = 0; m < n; m++) {
    const others = points.reduce((s, q, j) => j === m ? s : s + Math.exp(beta * dot(points[m]!, q)), 0);
    expected += (beta - Math.log((Math.exp(beta) + others) / n)) / n;
  }
  assert.ok(Math.abs(actual - expected) < 1e-5, `${actual} vs ${expected}`);
});

/**
 * The exact-numerator estimator's loss, from its definition in pstep.ts: the sampled estimator with each
 * drawn crop's numerator over every crop of its image. `sims.own[i·T + u]` is β zᵢᵀz of crop u of
 * i's image, `sims.drawn[i·N·k + j]` β zᵢᵀzⱼ between drawn crops.
 */
function exactNumeratorReference(
  logits: number[][],
  crops: number[],
  sims: { own: Float64Array; drawn: Float64Array },
  lambda: number,
  self: boolean,
): number {
  const n = logits.length, cropCount = logits[0]!.length, k = crops.length / n;
  const { logProbs, w } = drawnWeightsReference(logits, crops);
  let objective = 0;
  for (let i = 0; i < n * k; i++) {
    const m = Math.floor(i / k);
    const us = [...Array(cropCount).keys()].filter((u) => self || u !== crops[i]);
    const num = logSumExp(us.map((u) => logProbs[m]![u]! + sims.own[i * cropCount + u]!)) -
      logSumExp(us.map((u) => logProbs[m]![u]!));
    let rest = 0;
    for (let j = 0; j < n * k; j++) {
      if (Math.floor(j / k) !== m) rest += w[j]! * Math.exp(sims.drawn[i * n * k + j]!);
    }
    objective += w[i]! * (num - Math.log((rest + Math.exp(num)) / n)) / n;
  }
  return -objective - lambda * entropyReference(logProbs);
}

/** A exact-numerator case from an exact-own one: the drawn crops' rows of the kernels. */
function exactNumeratorCase(n: number, k: number, cropCount: number, seed: number, beta: number) {
  const { logits, crops, z } = exactOwnCase(n, k, cropCount, seed, beta);
  const zOf = (i: number) => z[Math.floor(i / k) * cropCount + crops[i]!]!;
  const own = new Float64Array(n * k * cropCount);
  const drawn = new Float64Array(n * k * n * k);
  for (let i = 0; i < n * k; i++) {
    for (let u = 0; u < cropCount; u++) {
      own[i * cropCount + u] = beta * dot(zOf(i), z[Math.floor(i / k) * cropCount + u]!);
    }
    for (let j = 0; j < n * k; j++) drawn[i * n * k + j] = beta * dot(zOf(i), zOf(j));
  }
  const ownKernel = () => tf.exp(tf.tensor3d(Float32Array.from(own), [n, k, cropCount]));
  const simsTf = () => tf.tensor2d(Float32Array.from(drawn), [n * k, n * k]);
  return { logits, crops, sims: { own, drawn }, ownKernel, simsTf };
}

Deno.test("exactNumeratorPolicyLoss() equals its definition, and its gradient finite differences, over all 289 crops", () => {
  const n = 3, k = 4, cropCount = 289, beta = 0.5, lambda = 0.01;
  const c = exactNumeratorCase(n, k, cropCount, 23, beta);
  for (const self of [false, true]) {
    const loss = (l: Tensor2D) =>
      exactNumeratorPolicyLoss(tf.logSoftmax(l), Int32Array.from(c.crops), c.ownKernel(), c.simsTf(), lambda, { self })
        .loss;
    const actual = tf.tidy(() => loss(tf.tensor2d(c.logits)).dataSync()[0]!);
    const expected = exactNumeratorReference(c.logits, c.crops, c.sims, lambda, self);
    assert.ok(Math.abs(actual - expected) < 2e-5, `self=${self}: ${actual} vs ${expected}`);
    const grad = tf.tidy(() =>
      tf.grad((l: tf.Tensor) => loss(l as Tensor2D))(tf.tensor2d(c.logits)).arraySync() as number[][]
    );
    const h = 1e-4;
    let worst = 0, scale = 0;
    const entries = [
      ...[0, 5, 100].map((t) => [0, t] as const),
      ...c.crops.map((t, j) => [Math.floor(j / k), t] as const),
    ];
    for (const [r, t] of entries) {
      const shifted = (d: number) => c.logits.map((row, i) => row.map((x, j) => (i === r && j === t ? x + d : x)));
      const fd = (exactNumeratorReference(shifted(h), c.crops, c.sims, lambda, self) -
        exactNumeratorReference(shifted(-h), c.crops, c.sims, lambda, self)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - grad[r]![t]!));
      scale = Math.max(scale, Math.abs(fd));
    }
    assert.ok(scale > 1e-4, "the gradient should not vanish");
    assert.ok(worst / scale < 2e-3, `self=${self}: relative error ${worst / scale}`);
  }
});

Deno.test("exactNumeratorPolicyLoss() scores a drawn crop against P's crops of its image, not the other drawn ones", () => {
  // Image 0 puts all its mass on crop 7; its drawn crops are 1 and 2. The sampled numerator
  // compares crop 1 with crop 2 only; the exact-numerator one with crop 7.
  const n = 2, k = 2, cropCount = 9, beta = 1;
  const logits = [Array.from({ length: cropCount }, (_, t) => (t === 7 ? 30 : 0)), new Array(cropCount).fill(0)];
  const crops = [1, 2, 3, 4];
  const { own, drawn } = exactNumeratorCase(n, k, cropCount, 3, beta).sims;
  // Image 0's crop 1 (row 0) is identical to crop 7 and orthogonal to crop 2.
  own.fill(0);
  own[0 * cropCount + 7] = beta;
  drawn.fill(0);
  const value = (ownValues: Float64Array) =>
    tf.tidy(() =>
      exactNumeratorPolicyLoss(
        tf.logSoftmax(tf.tensor2d(logits)),
        Int32Array.from(crops),
        tf.exp(tf.tensor3d(Float32Array.from(ownValues), [n, k, cropCount])),
        tf.tensor2d(Float32Array.from(drawn), [n * k, n * k]),
        0,
      ).objective.dataSync()[0]!
    );
  const agreeing = value(own);
  own[0 * cropCount + 7] = 0;
  assert.ok(agreeing - value(own) > 0.05, `agreement with P's crop 7 should raise I: ${agreeing} vs ${value(own)}`);
});
