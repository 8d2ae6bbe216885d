/**
 * Network parameters as named, ordered tfjs variables, with seeded initialisation and a stable
 * byte layout (for checkpoints and the weights hash).
 *
 * Initialisation decides whether anything learns on shifted MNIST: with small uniform weights and
 * non-zero biases (PyTorch's default) every crop's embedding starts at cosine ≈ 0.999 to every
 * other and neither network moves (REPRODUCE.md, "Earlier measurements"). Weights are therefore He-normal
 * (std √(2 / fan-in), the variance-preserving choice for ReLU networks) and biases zero.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Prng } from "../data/prng.ts";
import { type Tensor, tf, type Variable } from "../tf.ts";

/** How one parameter starts. */
export type Init = "he-normal" | "zeros";

/** One parameter: its name, shape and initialisation. */
export interface ParamSpec {
  /** Layer and kind, as weights are keyed: `f/conv1/w`, `p/fc2/b`, … */
  readonly name: string;
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** How its values are drawn. */
  readonly init: Init;
}

/** A network's parameters, in the order of their specs. */
export type Params = ReadonlyMap<string, Variable>;

/** Number of values in a tensor of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The fan-in of a weight: all but its last (output) dimension. */
export function fanIn(shape: readonly number[]): number {
  return sizeOf(shape.slice(0, -1));
}

/**
 * Initial values of the specs, drawn from `rng` in spec order.
 *
 * @returns One Float32Array per spec.
 */
export function initialValues(specs: readonly ParamSpec[], rng: Prng): Float32Array[] {
  return specs.map((spec) => {
    const values = new Float32Array(sizeOf(spec.shape));
    if (spec.init === "he-normal") {
      const std = Math.sqrt(2 / fanIn(spec.shape));
      for (let i = 0; i < values.length; i++) values[i] = std * rng.nextNormal();
    }
    return values;
  });
}

/**
 * Creates trainable variables for the specs.
 *
 * @param specs The parameters.
 * @param values Their values, one array per spec (from {@linkcode initialValues} or a checkpoint).
 */
export function makeParams(specs: readonly ParamSpec[], values: readonly Float32Array[]): Params {
  if (values.length !== specs.length) {
    throw new RangeError(`Cannot make ${specs.length} parameters from ${values.length} arrays`);
  }
  return new Map(specs.map((spec, i) => {
    const v = values[i]!;
    if (v.length !== sizeOf(spec.shape)) {
      throw new RangeError(
        `Cannot set parameter "${spec.name}" of shape [${spec.shape}] from ${v.length} values`,
      );
    }
    // tidy frees the initial tensor; the variable, a copy, survives it.
    return [spec.name, tf.tidy(() => tf.variable(tf.tensor(v, [...spec.shape]), true, spec.name))];
  }));
}

/** The variable named `name`, typed by its rank; throws if the network has none. */
export function param<T extends Tensor = Tensor>(params: Params, name: string): T {
  const v = params.get(name);
  if (!v) throw new RangeError(`The network has no parameter "${name}"`);
  return v as unknown as T;
}

/** Reads every parameter back (one read-back per parameter). */
export async function readParams(params: Params): Promise<Float32Array[]> {
  return await Promise.all([...params.values()].map(async (v) => new Float32Array(await v.data())));
}

/** sha256 over every parameter's name, shape and float32 bytes, in order. */
export function hashValues(specs: readonly ParamSpec[], values: readonly Float32Array[]): string {
  const hash = createHash("sha256");
  specs.forEach((spec, i) => {
    const v = values[i]!;
    hash.update(`${spec.name}[${spec.shape}]`);
    hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  });
  return hash.digest("hex");
}

/** Frees the variables. */
export function disposeParams(params: Params): void {
  for (const v of params.values()) v.dispose();
}
