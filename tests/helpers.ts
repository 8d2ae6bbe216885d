/** Helpers shared by the tests: seeded data, backend switching, closeness, tiny and untrained runs. */

import assert from "node:assert/strict";
import { Prng } from "../src/data/prng.ts";
import { type Method, resolveConfig, type TrainConfig } from "../src/config.ts";
import { readOutputs, relativeError } from "../src/kernels/agreement.ts";
import { type Tensor, tf } from "../src/tf.ts";
import { saveCheckpoint } from "../src/train/checkpoint.ts";

/** `n` seeded standard-normal values. */
export function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const rng = Prng.fromSeed(seed, "test");
  return Float32Array.from({ length: n }, () => scale * rng.nextNormal());
}

/** Runs `f` on `backend` and returns its tensors' values; the previous backend is restored. */
export async function onBackend(backend: string, f: () => Tensor | Tensor[]): Promise<Float32Array[]> {
  // engine().backendName, unlike getBackend(), does not start a backend when none is set.
  const previous = tf.engine().backendName ?? "wasm";
  await tf.setBackend(backend);
  try {
    return await readOutputs(f);
  } finally {
    await tf.setBackend(previous);
  }
}

/** Asserts `a` equals reference `b` to `tol` relative error (see {@linkcode relativeError}). */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = "") {
  const e = relativeError(a, b);
  assert.ok(e <= tol, `${what} relative error ${e.toExponential(2)} > ${tol}`);
}

/** A run small enough for a unit test: 32 shifted images, batches of 8, 4 crops each, seed 3, wasm. */
export const tinyRun = (method: Method, epochs = 2) =>
  resolveConfig("smoke", "shifted", method, 3, {
    trainSize: 32,
    batch: 8,
    crops: 4,
    policyCrops: 4,
    epochs,
    backend: "wasm",
  });

/**
 * Saves at `path` a checkpoint of `config` without weights, `epoch` epochs in: a run folder as
 * the commands read its config, for tests that never train it.
 */
export function saveEmptyCheckpoint(path: string, config: TrainConfig, epoch = 0): Promise<void> {
  const empty = { step: 0, m: [], v: [] };
  const learned = config.method === "crltac";
  return saveCheckpoint(path, {
    config,
    epoch,
    step: 0,
    rng: [1, 2, 3, 4],
    elapsedMs: 0,
    encoder: [],
    encoderAdam: empty,
    policy: learned ? [] : null,
    policyAdam: learned ? empty : null,
  });
}

/** The message of the error of class `kind` that `f` throws, or "no error". */
export function thrownMessage(f: () => unknown, kind: abstract new (...args: never[]) => Error): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof kind, String(e));
    return e.message;
  }
  return "no error";
}
