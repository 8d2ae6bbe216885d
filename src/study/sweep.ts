/**
 * Sweeps: named grids of P-step variants trained on the same seeds, each run's numbers, their
 * mean ± std over seeds, and λ chosen by the paper's rule — the lowest contrastive (h-step) loss
 * on the training set, the mean of the logged h-loss over the last epoch — beside the λ the
 * probe would have picked, which is reported and never used.
 *
 * @module
 */

import type { Method, ProfileName, TrainOverrides } from "../config.ts";
import { meanStd } from "../eval/metrics.ts";
import type { RunSpec, Variant } from "./plan.ts";
import type { RunRecord } from "./results.ts";

/** A variant of a grid, with the method it trains and the λ family it belongs to. */
export interface SweepVariant extends Variant {
  /** @default "crltac" */
  readonly method?: Method;
  /** Variants that differ only in λ share a family; λ is chosen within it. */
  readonly family?: string;
}

/** A named sweep: a profile, what every run changes from it, and the variants. */
export interface SweepGrid {
  readonly name: string;
  readonly description: string;
  readonly profile: ProfileName;
  /** Applied to every variant, before its own overrides. */
  readonly base: TrainOverrides;
  readonly seeds: readonly number[];
  readonly variants: readonly SweepVariant[];
}

const lambdas = (prefix: string, family: string, base: TrainOverrides, values: readonly number[]): SweepVariant[] =>
  values.map((lambda) => ({
    name: `${prefix}-lambda${lambda}`,
    overrides: { ...base, lambda },
    description: `${family}, λ = ${lambda}`,
    family,
  }));

/**
 * The P-step study at diagnostic scale: the smoke profile's pipeline on 8,192 training images (128
 * iterations of 64), so that a run takes minutes; the variants in the order they are run, the
 * most telling first, each against the default (`sampled`: k = 8 uniform crops, self-normalised
 * weights, own term left out, λ = 0.0025).
 */
const PSTEP: SweepGrid = {
  name: "pstep",
  description: "P-step variants on shifted MNIST, smoke pipeline on 8,192 training images (128 iterations)",
  profile: "smoke",
  base: { trainSize: 8192 },
  seeds: [0, 1],
  variants: [
    {
      name: "exact-own",
      overrides: { policyEstimator: "exact-own" },
      description: "all 289 crops of each image in the outer expectation and the numerator",
      family: "exact-own",
    },
    {
      name: "exact-own-self",
      overrides: { policyEstimator: "exact-own", policySelf: true },
      description: "exact-own, each crop's own term kept in its numerator (objective (2) as written)",
      family: "exact-own-self",
    },
    {
      name: "sampled",
      overrides: {},
      description: "today's default: k = 8 uniform crops, self-normalised weights, own term left out",
      family: "sampled",
    },
    {
      name: "sampled-self",
      overrides: { policySelf: true },
      description: "sampled, own term kept in the numerator",
      family: "sampled-self",
    },
    { name: "simclr", method: "simclr", overrides: {}, description: "SimCLR: P fixed uniform, for reference" },
    ...lambdas("sampled", "sampled", {}, [0.001, 0.005]),
    {
      name: "exact-numerator",
      overrides: { policyEstimator: "exact-numerator" },
      description: "sampled crops and weights, each crop's numerator over every crop of its image under P",
      family: "exact-numerator",
    },
    {
      name: "exact-numerator-from64",
      overrides: { policyEstimator: "exact-numerator", policySampledSteps: 64 },
      description:
        "NOT IN THE PAPER: sampled P-steps for 64 iterations (to leave uniform P), then exact-numerator ones",
    },
    // Inside the window where P moves on some seeds and not on others.
    ...lambdas("sampled", "sampled", {}, [0.0035]),
    {
      name: "sampled-k32",
      overrides: { policyCrops: 32 },
      description: "sampled with k = 32 uniform crops per image",
    },
    {
      name: "sampled-policylr0.0001",
      overrides: { policyLr: 1e-4 },
      description: "sampled, P(T|X)'s Adam step size 1e-4 instead of 1e-3 (P moves slower than h)",
    },
    {
      name: "sampled-warmup32",
      overrides: { warmup: 32 },
      description: "NOT IN THE PAPER: 32 SimCLR iterations (uniform crops, no P-step) before CRL-TAC",
    },
    {
      name: "sampled-beta1",
      overrides: { beta: 1 },
      description: "sampled, β = 1.0 (the paper's value on original MNIST) instead of 0.5",
    },
    {
      name: "sampled-m16",
      overrides: { crops: 16 },
      description: "sampled, m = 16 crops per image drawn from P for the h-step instead of 8",
    },
    {
      name: "sampled-every4",
      overrides: { policyEvery: 4 },
      description: "sampled, a P-step after every 4 h-steps instead of after each one",
    },
    {
      name: "exact-own-from64",
      overrides: { policyEstimator: "exact-own", policySampledSteps: 64 },
      description: "NOT IN THE PAPER: sampled P-steps for 64 iterations, then exact-own ones",
    },
    ...lambdas("exact-numerator", "exact-numerator", { policyEstimator: "exact-numerator" }, [0.001, 0.005]),
    ...lambdas("exact-own", "exact-own", { policyEstimator: "exact-own" }, [0.001, 0.005]),
    ...lambdas("exact-own-self", "exact-own-self", { policyEstimator: "exact-own", policySelf: true }, [0.001, 0.005]),
  ],
};

/** Every grid, by name. */
export const GRIDS: Readonly<Record<string, SweepGrid>> = { [PSTEP.name]: PSTEP };

/** The λ a variant trains with: its own, else the grid's base, else the profile's (given). */
export function variantLambda(grid: SweepGrid, v: SweepVariant, profileLambda: number): number {
  return v.overrides.lambda ?? grid.base.lambda ?? profileLambda;
}

/** The runs of a grid: variant × seed, variants in the grid's order (the most telling first). */
export function sweepRuns(grid: SweepGrid, seeds: readonly number[] = grid.seeds): RunSpec[] {
  return grid.variants.flatMap((v) =>
    seeds.map((seed) => ({
      data: "shifted" as const,
      method: v.method ?? "crltac",
      seed,
      variant: { name: v.name, overrides: { ...grid.base, ...v.overrides }, description: v.description },
    }))
  );
}

/** The quantities of a sweep's table, in its column order. */
export const SWEEP_METRICS = [
  { key: "hLoss", label: "h-loss (train)", digits: 4 },
  { key: "entropy", label: "P entropy", digits: 2 },
  { key: "wholeDigitMass", label: "whole-digit mass", digits: 3 },
  { key: "halfCellMass", label: "≥½-cell mass", digits: 3 },
  { key: "concentration", label: "concentration", digits: 3 },
  { key: "head/integrated", label: "head, P-int.", digits: 3 },
  { key: "head/oracle", label: "head, oracle", digits: 3 },
  { key: "f/integrated", label: "f, P-int.", digits: 3 },
  { key: "f/oracle", label: "f, oracle", digits: 3 },
  { key: "uniformity", label: "uniformity", digits: 3 },
  { key: "msPerIteration", label: "s/iteration", digits: 2 },
] as const;

/** A column of the table. */
export type SweepMetric = (typeof SWEEP_METRICS)[number]["key"];

/**
 * A run's row: the training h-loss (mean of the last epoch), P(T|X)'s statistics over the test
 * images, the probes' test accuracies, uniformity, and seconds per iteration. Null until evaluated.
 */
export function sweepRow(r: RunRecord): Record<SweepMetric, number> | null {
  const s = r.summary, e = r.eval;
  if (!s || !e) return null;
  const crops = e.crops;
  return {
    hLoss: s.final.hLoss ?? NaN,
    entropy: crops.entropy,
    wholeDigitMass: crops.wholeDigitMass,
    halfCellMass: crops.halfCellMass,
    concentration: crops.concentration,
    "head/integrated": e.probes["head/integrated"]?.accuracy ?? NaN,
    "head/oracle": e.probes["head/oracle"]?.accuracy ?? NaN,
    "f/integrated": e.probes["f/integrated"]?.accuracy ?? NaN,
    "f/oracle": e.probes["f/oracle"]?.accuracy ?? NaN,
    uniformity: e.uniformity.potential,
    msPerIteration: s.trainMs / Math.max(1, s.steps) / 1000,
  };
}

/** One variant's results: every seed's row and, per column, mean and population std. */
export interface VariantResult {
  readonly variant: SweepVariant;
  readonly lambda: number;
  readonly seeds: Readonly<Record<string, Record<SweepMetric, number>>>;
  readonly mean: Readonly<Record<SweepMetric, number>>;
  readonly std: Readonly<Record<SweepMetric, number>>;
}

/** λ chosen in one family by the paper's rule, and the λ the probe would have chosen. */
export interface LambdaChoice {
  readonly family: string;
  /** Candidates as (λ, mean training h-loss, mean head P-integrated accuracy). */
  readonly candidates: readonly { lambda: number; variant: string; hLoss: number; headAccuracy: number }[];
  /** Lowest mean training h-loss: the paper's rule. */
  readonly byPaperRule: number;
  /** Highest mean head P-integrated test accuracy: reported only, never used to choose. */
  readonly byProbe: number;
}

/** What a sweep produced. */
export interface SweepResult {
  readonly grid: string;
  readonly variants: readonly VariantResult[];
  readonly lambda: readonly LambdaChoice[];
}

/**
 * Aggregates a sweep's runs. Variants with no evaluated run yet are left out.
 *
 * @param profileLambda The profile's λ, for variants that do not set their own.
 */
export function aggregateSweep(grid: SweepGrid, records: readonly RunRecord[], profileLambda: number): SweepResult {
  const variants: VariantResult[] = [];
  for (const v of grid.variants) {
    const seeds: Record<string, Record<SweepMetric, number>> = {};
    for (const r of records) {
      const row = r.spec.variant?.name === v.name ? sweepRow(r) : null;
      if (row) seeds[String(r.spec.seed)] = row;
    }
    const rows = Object.values(seeds);
    if (rows.length === 0) continue;
    const column = (k: SweepMetric) => meanStd(rows.map((row) => row[k]));
    const keys = SWEEP_METRICS.map((m) => m.key);
    variants.push({
      variant: v,
      lambda: variantLambda(grid, v, profileLambda),
      seeds,
      mean: Object.fromEntries(keys.map((k) => [k, column(k).mean])) as Record<SweepMetric, number>,
      std: Object.fromEntries(keys.map((k) => [k, column(k).std])) as Record<SweepMetric, number>,
    });
  }
  const families = [...new Set(variants.map((v) => v.variant.family).filter((f): f is string => f !== undefined))];
  const lambda = families.flatMap((family): LambdaChoice[] => {
    const members = variants.filter((v) => v.variant.family === family);
    if (members.length < 2) return [];
    const candidates = members.map((v) => ({
      lambda: v.lambda,
      variant: v.variant.name,
      hLoss: v.mean.hLoss,
      headAccuracy: v.mean["head/integrated"],
    })).sort((a, b) => a.lambda - b.lambda);
    const best = (score: (c: (typeof candidates)[number]) => number) =>
      candidates.reduce((a, b) => (score(b) > score(a) ? b : a)).lambda;
    return [{ family, candidates, byPaperRule: best((c) => -c.hLoss), byProbe: best((c) => c.headAccuracy) }];
  });
  return { grid: grid.name, variants, lambda };
}
