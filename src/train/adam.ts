/**
 * Adam (Kingma & Ba 2015, Algorithm 1 with the bias corrections folded into the step size).
 *
 * Written out rather than taken from tfjs: tfjs's AdamOptimizer restores its bias-correction
 * accumulators as `pow(β, t)` while training builds them by repeated multiplication, so a
 * resumed run would drift from an uninterrupted one in the last bits. Here the correction is
 * computed in float64 on the host from the step count alone, so a checkpoint restores exactly.
 *
 * @module
 */

import type { Params } from "../model/params.ts";
import { type Tensor, tf, type Variable } from "../tf.ts";

/** Adam's hyper-parameters. */
export interface AdamOptions {
  /** Step size. */
  readonly lr: number;
  /** Decay rate of the gradient's running mean. @default 0.9 */
  readonly beta1?: number;
  /** Decay rate of the squared gradient's running mean. @default 0.999 */
  readonly beta2?: number;
  /** Added to the second moment's square root, against division by zero. @default 1e-8 */
  readonly epsilon?: number;
}

/** Adam's state, as plain arrays (for checkpoints). */
export interface AdamState {
  /** Updates applied so far (the bias corrections' exponent). */
  readonly step: number;
  /** First moments, one array per parameter, in parameter order. */
  readonly m: Float32Array[];
  /** Second moments, likewise. */
  readonly v: Float32Array[];
}

/** Adam over a fixed set of parameters. */
export class Adam {
  readonly #params: Params;
  readonly #m: Variable[];
  readonly #v: Variable[];
  readonly #lr: number;
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #epsilon: number;
  #step = 0;

  /**
   * An optimiser with zero moments, at step 0.
   *
   * @param params The parameters it updates, in the order their gradients and state are given.
   * @param options Its hyper-parameters.
   */
  constructor(params: Params, options: AdamOptions) {
    this.#params = params;
    this.#lr = options.lr;
    this.#beta1 = options.beta1 ?? 0.9;
    this.#beta2 = options.beta2 ?? 0.999;
    this.#epsilon = options.epsilon ?? 1e-8;
    const zeros = () => [...params.values()].map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.#m = zeros();
    this.#v = zeros();
  }

  /** Steps taken. */
  get step(): number {
    return this.#step;
  }

  /**
   * Applies one update. The gradients are not disposed here.
   *
   * @param grads Gradient per parameter name; every parameter must have one.
   */
  apply(grads: Readonly<Record<string, Tensor>>): void {
    this.#step++;
    const t = this.#step;
    const stepSize = this.#lr * Math.sqrt(1 - this.#beta2 ** t) / (1 - this.#beta1 ** t);
    tf.tidy(() => {
      [...this.#params].forEach(([name, p], i) => {
        const g = grads[name];
        if (!g) throw new RangeError(`Adam.apply() got no gradient for "${name}"`);
        const m = this.#m[i]!, v = this.#v[i]!;
        m.assign(tf.add(tf.mul(m, this.#beta1), tf.mul(g, 1 - this.#beta1)));
        v.assign(tf.add(tf.mul(v, this.#beta2), tf.mul(tf.square(g), 1 - this.#beta2)));
        p.assign(tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.#epsilon)), stepSize)));
      });
    });
  }

  /** The state, read back from the backend. */
  async state(): Promise<AdamState> {
    const read = (vs: Variable[]) => Promise.all(vs.map(async (x) => new Float32Array(await x.data())));
    return { step: this.#step, m: await read(this.#m), v: await read(this.#v) };
  }

  /** Restores a saved state. */
  restore(state: AdamState): void {
    if (state.m.length !== this.#m.length || state.v.length !== this.#v.length) {
      throw new RangeError(`Cannot restore Adam for ${this.#m.length} parameters from ${state.m.length}`);
    }
    this.#step = state.step;
    tf.tidy(() => {
      this.#m.forEach((x, i) => x.assign(tf.tensor(state.m[i]!, x.shape)));
      this.#v.forEach((x, i) => x.assign(tf.tensor(state.v[i]!, x.shape)));
    });
  }

  /** Frees the moment variables. */
  dispose(): void {
    tf.dispose([...this.#m, ...this.#v]);
  }
}
