import assert from "node:assert/strict";
import { cropGrid, cropOrigin } from "../../src/data/crops.ts";
import { extractCrops, loadDataset, renderImages, takeFirst } from "../../src/data/dataset.ts";
import { Prng } from "../../src/data/prng.ts";
import { cropWeightings, representations } from "../../src/eval/features.ts";
import { allCropFeatures, embed, encodeF, encoderSpecs, F_DIM } from "../../src/model/encoder.ts";
import { disposeParams, initialValues, makeParams } from "../../src/model/params.ts";
import { type Tensor2D, tf } from "../../src/tf.ts";
import { assertClose } from "../helpers.ts";

await tf.setBackend("cpu");

const specs = encoderSpecs(50);
const params = () => makeParams(specs, initialValues(specs, Prng.fromSeed(11, "init")));

for (const data of ["shifted", "original"] as const) {
  Deno.test(`allCropFeatures() equals encoding every crop of ${data} MNIST one by one`, async () => {
    const ds = takeFirst(await loadDataset(data, "test"), 2);
    const grid = cropGrid(ds.side);
    const p = params();
    const [whole, cropwise] = tf.tidy(() => {
      const images = tf.tensor4d(renderImages(ds, [0, 1]), [2, ds.side, ds.side, 1]);
      const owners = Array.from({ length: 2 * grid.count }, (_, i) => Math.floor(i / grid.count));
      const crops = owners.map((_, i) => i % grid.count);
      const x = tf.tensor4d(extractCrops(ds, owners, crops), [owners.length, 20, 20, 1]);
      return [allCropFeatures(p, images).dataSync(), encodeF(p, x).dataSync()];
    });
    // Row-major [2, P, P, 200] is crop t = i·P + j of each image: the crop order of the grid.
    assert.equal(whole.length, 2 * grid.count * F_DIM);
    assert.deepEqual(cropOrigin(grid, 1), [0, 4]);
    assertClose(whole, cropwise, 1e-5, "f of all crops");
    disposeParams(p);
  });
}

Deno.test("representations() averages the crops' h and f with P, top-8 and oracle weights", async () => {
  const ds = takeFirst(await loadDataset("shifted", "test"), 3);
  const grid = cropGrid(84);
  const p = params();
  const r = await representations({ encoder: p, policy: "uniform", headDim: 50 }, ds, [0, 1, 2], 2);
  assert.deepEqual(Object.keys(r.reps).sort(), ["integrated", "oracle"]);
  // SimCLR: P is uniform, and the integrated head is the normalised mean of all 289 crops' h.
  assert.ok(r.probs.every((v) => Math.abs(v - 1 / 289) < 1e-7));
  const expected = tf.tidy(() => {
    const owners = Array.from({ length: grid.count }, () => 2);
    const crops = owners.map((_, t) => t);
    const h = embed(p, tf.tensor4d(extractCrops(ds, owners, crops), [grid.count, 20, 20, 1]));
    const mean = tf.mean(h, 0, true) as Tensor2D;
    return tf.div(mean, tf.norm(mean)).dataSync();
  });
  assertClose(r.reps.integrated!.head.subarray(100, 150), expected, 1e-5, "integrated head of image 2");
  disposeParams(p);
});

Deno.test("cropWeightings() picks the 8 most probable crops and passes P and the oracle through", () => {
  const t = 12;
  const p = new Float32Array(2 * t);
  // Image 0: crops 0..11 with increasing mass; image 1: mass on crops 3 and 7 only.
  for (let c = 0; c < t; c++) p[c] = (c + 1) / 78;
  p[t + 3] = 0.5;
  p[t + 7] = 0.5;
  const oracle = new Float32Array(2 * t).fill(1 / t);
  const [integrated, top, or] = tf.tidy(() =>
    cropWeightings(tf.tensor2d(p, [2, t]), tf.tensor2d(oracle, [2, t]), true).map((w) => w.arraySync() as number[][])
  );
  assert.deepEqual(integrated![0]!.map((v) => Math.round(v * 78)), Array.from({ length: t }, (_, c) => c + 1));
  assert.deepEqual(top![0]!.map((v) => v * 8), [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  const topOfSecond = top![1]!.flatMap((v, c) => (v > 0 ? [c] : []));
  assert.equal(topOfSecond.length, 8);
  assert.ok(topOfSecond.includes(3) && topOfSecond.includes(7));
  assert.ok(or![1]!.every((v) => Math.abs(v - 1 / t) < 1e-7));
});

Deno.test("representations() of the oracle ablation integrate over the whole-digit crops only", async () => {
  const ds = takeFirst(await loadDataset("shifted", "test"), 3);
  const p = params();
  const simclr = await representations({ encoder: p, policy: "uniform", headDim: 50 }, ds, [0, 1, 2], 2);
  const oracle = await representations({ encoder: p, policy: "wholeDigit", headDim: 50 }, ds, [0, 1, 2], 2);
  // Its P is the oracle weighting, which would be a second copy of the integrated one.
  assert.deepEqual(Object.keys(oracle.reps), ["integrated"]);
  assert.equal(oracle.probs.filter((v) => v > 0).length, 27);
  assertClose(oracle.reps.integrated!.head, simclr.reps.oracle!.head, 1e-6, "head");
  assertClose(oracle.reps.integrated!.f, simclr.reps.oracle!.f, 1e-6, "f");
  disposeParams(p);
});
