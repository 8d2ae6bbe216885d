import assert from "node:assert/strict";
import { loadDataset, renderImages, takeFirst } from "../../src/data/dataset.ts";
import { Prng } from "../../src/data/prng.ts";
import { disposeParams, initialValues, makeParams, type Params } from "../../src/model/params.ts";
import { policyImagesPerPass, policyLogits, policyLogProbs, policySpecs } from "../../src/model/policy.ts";
import { policyForward, policyGrads } from "../../src/model/policy_backward.ts";
import { sampledPolicyLoss } from "../../src/objective/pstep.ts";
import { type Scalar, type Tensor, type Tensor2D, type Tensor4D, tf } from "../../src/tf.ts";
import { assertClose, onBackend } from "../helpers.ts";
import { TEST_BACKENDS } from "../webgpu.ts";

await tf.setBackend("wasm");

Deno.test("the smoke profile's batch of 64 shifted images is one pass, the paper's 256 are several", () => {
  // One pass keeps the smoke fixtures exact (see policyGrads); several keep wasm under its heap.
  assert.ok(policyImagesPerPass(84) >= 64);
  assert.ok(policyImagesPerPass(84) < 256);
  assert.ok(policyImagesPerPass(28) >= 256);
});

// Six 28×28 images: P(T|X) over the 9 crops of original MNIST.
const n = 6, k = 2, side = 28, cropCount = 9;
const ds = takeFirst(await loadDataset("original", "train"), n);
const pixels = renderImages(ds, Array.from({ length: n }, (_, i) => i));
const specs = policySpecs(side, cropCount);
const values = initialValues(specs, Prng.fromSeed(3, "init"));
const rng = Prng.fromSeed(4, "test");
const crops = Int32Array.from({ length: n * k }, () => rng.nextInt(cropCount));
const simValues = Float32Array.from({ length: (n * k) ** 2 }, () => rng.nextNormal());

function withPolicy<T>(f: (p: Params, images: Tensor4D, loss: (logProbs: Tensor2D) => Scalar) => T): T {
  const p = makeParams(specs, values);
  const images = tf.tensor4d(pixels, [n, side, side, 1]);
  const sims = tf.tensor2d(simValues, [n * k, n * k]);
  try {
    return f(p, images, (logProbs) => sampledPolicyLoss(logProbs, crops, sims, 0.0025).loss);
  } finally {
    disposeParams(p);
    tf.dispose([images, sims]);
  }
}

/** The P-step's loss and gradients through the whole graph, as tfjs differentiates it. */
const wholeGraph = () =>
  withPolicy((p, images, loss) => {
    const { value, grads } = tf.variableGrads(() => loss(policyLogProbs(p, images)), [...p.values()]);
    return [value, ...Object.values(grads)];
  });

const inPasses = (perPass: number) => () =>
  withPolicy((p, images, loss) => {
    const forward = policyForward(p, images, perPass);
    const { value, grads } = policyGrads(p, forward, loss);
    forward.dispose();
    return [value, ...Object.values(grads)];
  });

Deno.test("policyGrads() from a saved forward pass is exactly what tfjs's tape computes", async () => {
  const whole = await onBackend("wasm", wholeGraph);
  const passes = await onBackend("wasm", inPasses(n));
  assert.equal(passes.length, specs.length + 1);
  passes.forEach((v, i) => assert.deepEqual(v, whole[i], `output ${i}`));
});

Deno.test("policyLogits() and policyForward() give the same logits in any number of passes", async () => {
  const one = await onBackend("wasm", () => withPolicy((p, images) => policyLogits(p, images, n)));
  for (const perPass of [1, 4]) {
    const logits = await onBackend("wasm", () => withPolicy((p, images) => policyLogits(p, images, perPass)));
    assertClose(logits[0]!, one[0]!, 1e-6, `policyLogits, ${perPass} per pass`);
    const forward = await onBackend("wasm", () =>
      withPolicy((p, images) => {
        const f = policyForward(p, images, perPass);
        const out = tf.clone(f.logits);
        f.dispose();
        return out;
      }));
    assertClose(forward[0]!, one[0]!, 1e-6, `policyForward, ${perPass} per pass`);
  }
});

Deno.test("policyGrads() in passes, on every backend, equals the whole graph's gradient on cpu", async (t) => {
  const whole = await onBackend("cpu", wholeGraph);
  for (const backend of TEST_BACKENDS) {
    for (const perPass of [1, 4]) {
      await t.step(`${backend}, ${perPass} image(s) per pass`, async () => {
        const passes = await onBackend(backend, inPasses(perPass));
        passes.forEach((v, i) => assertClose(v, whole[i]!, 1e-5, `output ${i}`));
      });
    }
  }
});

Deno.test("policyGrads() leaves no tensor behind", () => {
  inPasses(4)().forEach((t: Tensor) => t.dispose()); // warm-up: tfjs caches a few tensors once
  const before = tf.memory().numTensors;
  inPasses(4)().forEach((t: Tensor) => t.dispose());
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("a P-step on the paper's batch of 256 shifted images fits in wasm's memory", async () => {
  // Differentiated by tfjs's tape all at once, it aborted tfjs's wasm heap (4 GiB).
  const big = 256;
  const shifted = takeFirst(await loadDataset("shifted", "train"), big);
  const pSpecs = policySpecs(84, 289);
  const p = makeParams(pSpecs, initialValues(pSpecs, Prng.fromSeed(0, "init")));
  const picked = Int32Array.from({ length: big * k }, (_, i) => (i * 37) % 289);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const images = tf.tensor4d(renderImages(shifted, Array.from({ length: big }, (_, i) => i)), [big, 84, 84, 1]);
    const sims = tf.eye(big * k) as Tensor2D;
    const forward = policyForward(p, images);
    const { value, grads } = policyGrads(p, forward, (lp) => sampledPolicyLoss(lp, picked, sims, 0.0025).loss);
    return [value, ...Object.values(grads)];
  });
  const read = await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  disposeParams(p);
  assert.ok(read.every((v) => v.every(Number.isFinite)));
  assert.ok(read.slice(1).some((v) => v.some((x) => x !== 0)));
  assert.equal(tf.memory().numTensors, before - pSpecs.length);
});
