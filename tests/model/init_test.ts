import assert from "node:assert/strict";
import { cropGrid, emptyCrops } from "../../src/data/crops.ts";
import { extractCrops, loadDataset, renderImageBytes, renderImages, takeFirst } from "../../src/data/dataset.ts";
import { Prng } from "../../src/data/prng.ts";
import { embed, encoderSpecs } from "../../src/model/encoder.ts";
import { disposeParams, fanIn, hashValues, initialValues, makeParams } from "../../src/model/params.ts";
import { policyLogProbs, policySpecs } from "../../src/model/policy.ts";
import { tf } from "../../src/tf.ts";

await tf.setBackend("wasm");

Deno.test("initialValues() is He-normal with zero biases, and depends only on the seed", () => {
  const specs = encoderSpecs(50);
  const a = initialValues(specs, Prng.fromSeed(1, "init"));
  assert.equal(hashValues(specs, initialValues(specs, Prng.fromSeed(1, "init"))), hashValues(specs, a));
  assert.notEqual(hashValues(specs, initialValues(specs, Prng.fromSeed(2, "init"))), hashValues(specs, a));
  specs.forEach((spec, i) => {
    const v = a[i]!;
    if (spec.init === "zeros") return assert.ok(v.every((x) => x === 0), spec.name);
    const variance = v.reduce((s, x) => s + x * x, 0) / v.length;
    const expected = 2 / fanIn(spec.shape);
    assert.ok(Math.abs(variance / expected - 1) < 0.15, `${spec.name}: variance ${variance} vs ${expected}`);
  });
  assert.ok(specs.filter((s) => s.name.endsWith("/b")).every((s) => s.init === "zeros"));
});

Deno.test("at initialisation, non-empty crops of different images are not collapsed", async () => {
  // The failure mode of PyTorch's default init: every crop's h at cosine ≈ 0.999 to every other.
  const ds = takeFirst(await loadDataset("shifted", "test"), 64);
  const image = new Uint8Array(84 * 84);
  const owners: number[] = [], crops: number[] = [];
  for (let i = 0; i < ds.count; i++) {
    const empty = emptyCrops(renderImageBytes(ds, i, image), cropGrid(84));
    owners.push(i);
    crops.push(empty.indexOf(0));
  }
  const specs = encoderSpecs(50);
  const p = makeParams(specs, initialValues(specs, Prng.fromSeed(0, "init")));
  const cos = tf.tidy(() => {
    const z = embed(p, tf.tensor4d(extractCrops(ds, owners, crops), [owners.length, 20, 20, 1]));
    return tf.matMul(z, z, false, true).arraySync() as number[][];
  });
  disposeParams(p);
  let sum = 0, n = 0;
  cos.forEach((row, i) => row.forEach((c, j) => i !== j && (sum += c, n++)));
  assert.ok(sum / n < 0.5, `mean cosine between different images' crops ${sum / n}`);
});

Deno.test("at initialisation, P(T|X) is close to uniform but not exactly", async () => {
  const ds = takeFirst(await loadDataset("shifted", "test"), 8);
  const specs = policySpecs(84, 289);
  const p = makeParams(specs, initialValues(specs, Prng.fromSeed(0, "init")));
  const images = renderImages(ds, [0, 1, 2, 3, 4, 5, 6, 7]);
  const probs = tf.tidy(() => tf.exp(policyLogProbs(p, tf.tensor4d(images, [8, 84, 84, 1]))).arraySync() as number[][]);
  disposeParams(p);
  for (const row of probs) {
    const entropy = -row.reduce((s, q) => s + q * Math.log(q), 0);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    assert.ok(entropy > 5.5 && entropy < Math.log(289), `entropy ${entropy}`);
  }
});
