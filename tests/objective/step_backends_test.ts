import { PAPER_BETA, PROFILES } from "../../src/config.ts";
import { datasetCropGrid, loadDataset, takeFirst } from "../../src/data/dataset.ts";
import { Prng } from "../../src/data/prng.ts";
import { encoderSpecs } from "../../src/model/encoder.ts";
import { initialValues, makeParams } from "../../src/model/params.ts";
import { policySpecs } from "../../src/model/policy.ts";
import { policyForward } from "../../src/model/policy_backward.ts";
import { hStep } from "../../src/objective/hstep.ts";
import { pStep } from "../../src/objective/pstep.ts";
import { type Tensor, tf } from "../../src/tf.ts";
import { renderImages } from "../../src/data/dataset.ts";
import { assertClose, onBackend } from "../helpers.ts";
import { TEST_BACKENDS } from "../webgpu.ts";

// One whole training iteration at a small batch (8 images × 4 crops) with the paper's settings on
// shifted MNIST: the h-step's and the P-step's losses and gradients on every backend equal the
// cpu backend's.
const n = 8, m = 4;
const ds = takeFirst(await loadDataset("shifted", "train"), n);
const t = datasetCropGrid(ds).count;
const { headDim, lambda, policySelf } = PROFILES.paper.train;
const config = { policyCrops: m, lambda, beta: PAPER_BETA.shifted, policyEstimator: "sampled" as const, policySelf };
const rng = Prng.fromSeed(5, "init");
const eSpecs = encoderSpecs(headDim), pSpecs = policySpecs(ds.side, t);
const eValues = initialValues(eSpecs, rng), pValues = initialValues(pSpecs, rng);
const owners = Array.from({ length: n * m }, (_, i) => Math.floor(i / m));
// The P-step draws its uniform crops from a generator in this state: the h-step's crops.
const draws = rng.state();
const crops = Int32Array.from(owners, () => rng.nextInt(t));
const indices = Array.from({ length: n }, (_, i) => i);
const pixels = renderImages(ds, indices);

function iteration(): Tensor[] {
  const encoder = makeParams(eSpecs, eValues), policy = makeParams(pSpecs, pValues);
  const images = tf.tensor4d(pixels, [n, ds.side, ds.side, 1]);
  const h = hStep(encoder, ds, owners, crops, m, config.beta);
  const forward = policyForward(policy, images);
  const p = pStep(policy, forward, { ds, indices, images: () => images }, encoder, Prng.fromState(draws), config, t);
  const out = [h.loss, ...Object.values(h.grads), p.loss, p.objective, p.entropy, ...Object.values(p.grads)];
  forward.dispose();
  tf.dispose([images, ...encoder.values(), ...policy.values()]);
  return out;
}

Deno.test("one training iteration (hStep, pStep) gives the same losses and gradients on every backend as on cpu", async (t) => {
  const reference = await onBackend("cpu", iteration);
  for (const backend of TEST_BACKENDS) {
    await t.step(backend, async () => {
      const values = await onBackend(backend, iteration);
      reference.forEach((r, i) => assertClose(values[i]!, r, 1e-4, `${backend} output ${i}`));
    });
  }
});
