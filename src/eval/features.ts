/**
 * Representations for evaluation. For every image, f and h of all |T| crops come from one fully
 * convolutional pass of the encoder over the whole image ({@linkcode allCropFeatures}), never
 * from |T| separate crop passes; they are then averaged with per-image crop weights:
 *
 * - integrated: P(t|x) (uniform for SimCLR, the whole-digit crops for the oracle ablation) — the
 *   paper's Z(x) = E_{P(T|x)}[h(T x)];
 * - top-8: 1/8 on the 8 crops with the highest P(t|x) (CRL-TAC only: a uniform P has no top 8);
 * - oracle: 1/9 on the 9 crops inside the digit's cell (not for the oracle ablation, whose
 *   integrated weighting it is).
 *
 * Head representations are L2-normalised after averaging (as h itself is); f ones are not.
 *
 * @module
 */

import { fixedDistribution, wholeDigitWeights } from "../data/crop_distributions.ts";
import { cropGrid } from "../data/crops.ts";
import { type Dataset, renderImages } from "../data/dataset.ts";
import { allCropFeatures, F_DIM, l2Normalize, project } from "../model/encoder.ts";
import type { Params } from "../model/params.ts";
import { policyLogits, policyProbs } from "../model/policy.ts";
import { type Tensor, type Tensor2D, type Tensor3D, tf } from "../tf.ts";

/** The crop weightings evaluated. */
export type Weighting = "integrated" | "top8" | "oracle";

/** The two places representations are taken from. */
export type Level = "head" | "f";

/** A trained model as evaluation needs it. */
export interface Model {
  /** The weights of the encoder f and the projection head g. */
  readonly encoder: Params;
  /** P(T|X): learned (CRL-TAC), or fixed uniform (SimCLR) or on the whole-digit crops (the oracle ablation). */
  readonly policy: Params | "uniform" | "wholeDigit";
  /** Width of the head's output. */
  readonly headDim: number;
}

/** Representations of a set of images, row-major, one row per image. */
export interface Representations {
  /** Images represented. */
  readonly count: number;
  /** Width of the head's output. */
  readonly headDim: number;
  /** `count × |T|` crop probabilities P(t|x). */
  readonly probs: Float32Array;
  /** Per weighting and level, `count × dim` (head: headDim, f: 200); top8 absent for SimCLR. */
  readonly reps: Partial<Record<Weighting, Record<Level, Float32Array>>>;
}

/** Crops in the top-k weighting. */
export const TOP_K = 8;

/**
 * The crop weights of each weighting, `[b,|T|]` each, rows summing to 1: P itself, then (when
 * `withTop` is set) 1/8 on the 8 largest entries of each row of P, then `oracle` as given.
 *
 * @param p P(t|x), `[b,|T|]`.
 * @param oracle The oracle weights, `[b,|T|]`, or null to leave them out.
 */
export function cropWeightings(p: Tensor2D, oracle: Tensor2D | null, withTop: boolean): Tensor2D[] {
  return tf.tidy(() => {
    const weights = [tf.clone(p)];
    if (withTop) weights.push(tf.div(tf.sum(tf.oneHot(tf.topk(p, TOP_K).indices, p.shape[1]), 1), TOP_K));
    if (oracle) weights.push(tf.clone(oracle));
    return weights;
  });
}

/** The weightings evaluated for a model's kind of P. */
export function weightingsOf(policy: Model["policy"]): Weighting[] {
  if (policy === "uniform") return ["integrated", "oracle"];
  if (policy === "wholeDigit") return ["integrated"];
  return ["integrated", "top8", "oracle"];
}

/**
 * Computes the representations of images `indices` of `ds`.
 *
 * @param batch Images per encoder pass.
 * @param onBatch Called after each batch with the number of images done.
 */
export async function representations(
  model: Model,
  ds: Dataset,
  indices: readonly number[],
  batch = 64,
  onBatch?: (done: number) => void,
): Promise<Representations> {
  const grid = cropGrid(ds.side);
  const t = grid.count;
  const weightings = weightingsOf(model.policy);
  const learned = typeof model.policy !== "string" ? model.policy : null;
  const n = indices.length;
  const probs = new Float32Array(n * t);
  const reps: Representations["reps"] = {};
  for (const w of weightings) {
    reps[w] = { head: new Float32Array(n * model.headDim), f: new Float32Array(n * F_DIM) };
  }
  for (let start = 0; start < n; start += batch) {
    const part = indices.slice(start, start + batch);
    const b = part.length;
    const oracle = weightings.includes("oracle") ? wholeDigitWeights(ds, part) : null;
    const fixed = learned ? null : fixedDistribution(ds, part, model.policy as "uniform" | "wholeDigit");
    const packed = tf.tidy(() => {
      const images = tf.tensor4d(renderImages(ds, part), [b, ds.side, ds.side, 1]);
      const f = tf.reshape(allCropFeatures(model.encoder, images), [b * t, F_DIM]) as Tensor2D;
      const h = l2Normalize(project(model.encoder, f));
      const p = learned ? policyProbs(policyLogits(learned, images)) : tf.tensor2d(fixed!, [b, t]);
      const weights = cropWeightings(p, oracle && tf.tensor2d(oracle, [b, t]), learned !== null);
      // [b,1,T] × [b,T,d]: each image's weighted mean over its crops.
      const average = (w: Tensor, x: Tensor2D, dim: number) =>
        tf.reshape(tf.matMul(tf.reshape(w, [b, 1, t]) as Tensor3D, tf.reshape(x, [b, t, dim]) as Tensor3D), [
          b,
          dim,
        ]) as Tensor2D;
      const outputs = [p, ...weights.flatMap((w) => [l2Normalize(average(w, h, model.headDim)), average(w, f, F_DIM)])];
      return tf.concat(outputs.map((o) => tf.reshape(o, [-1])));
    });
    const values = await packed.data(); // GPU sync: one read-back per batch
    packed.dispose();
    let offset = 0;
    const take = (into: Float32Array, size: number) => {
      into.set(values.subarray(offset, offset + b * size), start * size);
      offset += b * size;
    };
    take(probs, t);
    for (const w of weightings) {
      take(reps[w]!.head, model.headDim);
      take(reps[w]!.f, F_DIM);
    }
    onBatch?.(start + b);
  }
  return { count: n, headDim: model.headDim, probs, reps };
}
