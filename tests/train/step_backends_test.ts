import { extractCrops, loadDataset, renderImages, takeFirst } from "../../src/data/dataset.ts";
import { Prng } from "../../src/data/prng.ts";
import { embed, encoderSpecs } from "../../src/model/encoder.ts";
import { matMul } from "../../src/model/ops.ts";
import { initialValues, makeParams } from "../../src/model/params.ts";
import { policyForward, policyGrads, policySpecs } from "../../src/model/policy.ts";
import { jensenLoss } from "../../src/objective/hstep.ts";
import { policyLoss } from "../../src/objective/pstep.ts";
import { type Tensor, type Tensor2D, tf } from "../../src/tf.ts";
import { assertClose, onBackend } from "../helpers.ts";
import { TEST_BACKENDS } from "../webgpu.ts";

// One whole training iteration at a small batch (8 images × 4 crops): the h-step's and the
// P-step's losses and gradients on every backend equal the cpu backend's.
const n = 8, m = 4;
const ds = takeFirst(await loadDataset("shifted", "train"), n);
const rng = Prng.fromSeed(5, "init");
const eSpecs = encoderSpecs(50), pSpecs = policySpecs(84, 289);
const eValues = initialValues(eSpecs, rng), pValues = initialValues(pSpecs, rng);
const owners = Array.from({ length: n * m }, (_, i) => Math.floor(i / m));
const crops = owners.map(() => rng.nextInt(289));
const x = extractCrops(ds, owners, crops);
const images = renderImages(ds, Array.from({ length: n }, (_, i) => i));

function iteration(): Tensor[] {
  const encoder = makeParams(eSpecs, eValues), policy = makeParams(pSpecs, pValues);
  const xt = tf.tensor4d(x, [n * m, 20, 20, 1]);
  const h = tf.variableGrads(() => jensenLoss(embed(encoder, xt), m, 0.5), [...encoder.values()]);
  const z = embed(encoder, xt);
  const sims = tf.mul(matMul(z, tf.transpose(z)), 0.5) as Tensor2D;
  const imagesT = tf.tensor4d(images, [n, 84, 84, 1]);
  const forward = policyForward(policy, imagesT);
  const p = policyGrads(policy, forward, (logProbs) => policyLoss(logProbs, Int32Array.from(crops), sims, 0.0025).loss);
  const out = [h.value, ...Object.values(h.grads), p.value, ...Object.values(p.grads)].map((t) => tf.keep(t));
  tf.dispose([...encoder.values(), ...policy.values()]);
  return out;
}

Deno.test("one training iteration gives the same losses and gradients on every backend as on cpu", async (t) => {
  const reference = await onBackend("cpu", iteration);
  for (const backend of TEST_BACKENDS) {
    await t.step(backend, async () => {
      const values = await onBackend(backend, iteration);
      reference.forEach((r, i) => assertClose(values[i]!, r, 1e-4, `${backend} output ${i}`));
    });
  }
});
