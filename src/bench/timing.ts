/**
 * Timing for `deno task bench`: the median step time with one GPU sync per step, and where a
 * step's time goes, kernel by kernel.
 *
 * @module
 */

import { type Tensor, tf } from "../tf.ts";

/** Median of `reps` timed runs of `run`, after two warm-up runs (shader compilation, caches). */
export async function timeMedian(run: () => Promise<void>, reps: number): Promise<number> {
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

/** Runs `f` in a tidy and waits for its outputs' sums: one GPU sync per step. */
export function timed(f: () => Tensor[]): () => Promise<void> {
  return async () => {
    const out = tf.tidy(() => tf.stack(f().map((t) => tf.sum(t))));
    await out.data(); // GPU sync: once per step
    out.dispose();
  };
}

/** Time spent in one kernel with given input shapes, over all its calls in a step. */
export interface KernelTime {
  kernel: string;
  inputShapes: string;
  calls: number;
  ms: number;
}

/**
 * Where one run of `f` spends its time, by kernel and input shapes, most costly first: GPU time
 * from timestamp queries on WebGPU (one read-back per kernel, so only for profiling). Only
 * kernels count: tfjs also lists each `tf.customGrad` call (as "unnamed scope" or its caller's
 * name), whose time is that of the kernels inside it, listed on their own.
 */
export async function kernelProfile(f: () => Tensor[]): Promise<KernelTime[]> {
  const info = await tf.profile(() => tf.tidy(f));
  tf.dispose(info.result as Tensor[]);
  const backend = tf.getBackend();
  const byKey = new Map<string, KernelTime>();
  for (const k of info.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined)) {
    const inputShapes = k.inputShapes.map((shape) => `[${shape}]`).join(" ");
    const key = `${k.name} ${inputShapes}`;
    const entry = byKey.get(key) ?? { kernel: k.name, inputShapes, calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => b.ms - a.ms);
}
