/**
 * `deno task bench --check`: whether this backend computes what a reference backend computes,
 * at the shapes training runs at, on the machine at hand (a GPU driver may get a shape wrong that
 * Mesa got right; REPRODUCE.md, "WebGPU correctness").
 *
 * The steps' forward passes are compared whole; gradients fast path by fast path. A ReLU whose
 * input rounds to the other side of zero on another backend changes a whole step's conv
 * gradients by up to 5e-3 (seen between cpu and wasm on 512 crops), which is rounding, not a bug.
 *
 * @module
 */

import { Prng } from "../data/prng.ts";
import { readOutputs, stepError } from "../kernels/agreement.ts";
import { avgPool2, biasAdd, conv2d, matMul, type Padding, type Stride } from "../kernels/ops.ts";
import { type Tensor, type Tensor2D, type Tensor4D, tf } from "../tf.ts";
import type { StepName, Steps } from "./steps.ts";

/** Largest relative error the check accepts: the tests' bound for the fast paths. */
export const CHECK_TOLERANCE = 1e-4;

/** One fast path at a training shape. */
export interface OpCheck {
  readonly step: StepName;
  readonly name: string;
  /** Its output and every input gradient, on the current backend. */
  readonly run: () => Tensor[];
}

/**
 * `f` on seeded normal inputs of `shapes` (scaled by `scales`), with the gradients of Σ f·dy for
 * a seeded normal dy: the forward value and every input gradient, as a training step uses them.
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
 * the convolutions with their bias, the dense layers (P(T|X)'s 56448 → 128 is split on WebGPU)
 * and the average pool, as in src/model/encoder.ts and policy.ts.
 */
export function opChecks(crops: number, images: number): OpCheck[] {
  const conv = (stride: Stride, padding: Padding) => (x: Tensor, w: Tensor, b: Tensor) =>
    biasAdd(conv2d(x as Tensor4D, w as Tensor4D, { stride, padding }), b);
  const dense = (x: Tensor, w: Tensor, b: Tensor) => biasAdd(matMul(x as Tensor2D, w as Tensor2D), b);
  const layer = (n: number, x: number[], w: number[]) => [[n, ...x], w, [w.at(-1)!]];
  const scales = (fanIn: number) => [1, Math.sqrt(2 / fanIn), 1];
  const cases: [StepName, string, number[][], number[], (...xs: Tensor[]) => Tensor][] = [
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

/** What {@linkcode checkAgainst} found. */
export interface CheckResult {
  /** Per step: the largest error of its forward pass and of its fast paths. */
  readonly steps: Record<StepName, number>;
  /** Per fast path. */
  readonly ops: { step: StepName; name: string; error: number }[];
}

/**
 * Runs the steps' forward passes (losses, features) and `checks` on the current backend and on
 * `reference`, and compares them with {@linkcode stepError}. The current backend is restored.
 *
 * @param withSteps Makes the steps on the current backend (src/bench/steps.ts).
 */
export async function checkAgainst(
  reference: string,
  withSteps: <T>(f: (steps: Steps) => Promise<T>) => Promise<T>,
  checks: readonly OpCheck[],
): Promise<CheckResult> {
  const run = async () => {
    const forward = await withSteps(async (steps) => {
      const out = {} as Record<StepName, Float32Array[]>;
      for (const [name, f] of Object.entries(steps) as [StepName, () => Tensor[]][]) {
        // A loss is the first output of a training step; the features are all of all_crops.
        out[name] = await readOutputs(() => name === "all_crops" ? f() : f().slice(0, 1));
      }
      return out;
    });
    const ops: Float32Array[][] = [];
    for (const c of checks) ops.push(await readOutputs(c.run));
    return { forward, ops };
  };
  const current = tf.getBackend();
  const mine = await run();
  await tf.setBackend(reference);
  let theirs;
  try {
    theirs = await run();
  } finally {
    await tf.setBackend(current);
  }
  const steps = {} as Record<StepName, number>;
  for (const name of Object.keys(mine.forward) as StepName[]) {
    steps[name] = stepError(mine.forward[name], theirs.forward[name]);
  }
  const ops = checks.map((c, i) => ({ step: c.step, name: c.name, error: stepError(mine.ops[i]!, theirs.ops[i]!) }));
  for (const op of ops) steps[op.step] = Math.max(steps[op.step], op.error);
  return { steps, ops };
}
