/**
 * Every hyper-parameter of a run in one typed object, the named profiles that set their defaults,
 * and the checks that reject a bad value before any work starts.
 *
 * @module
 */

import type { BackendChoice } from "./backend.ts";
import type { DatasetName } from "./data/dataset.ts";

/**
 * The methods: CRL-TAC learns P(T|X); SimCLR keeps it uniform. `oracle` is an ablation that is
 * not in the paper and uses privileged information: P(T|X) fixed uniform on the 9 whole-digit
 * crops of each image's cell (where the digit was pasted), no P-step — the encoder CRL-TAC's P
 * would train if it found the whole digit, i.e. the ceiling of the method on shifted MNIST.
 */
export type Method = "crltac" | "simclr" | "oracle";

/** Every method, for argument checking. */
export const METHODS: readonly Method[] = ["crltac", "simclr", "oracle"];

/**
 * How the P-step estimates objective (2): from k uniformly drawn crops per image ("sampled"),
 * with every crop of each image in the outer expectation and the numerator ("exact"), or with the
 * sampled crops scored against every crop of their image in the numerator ("hybrid"); see
 * src/objective/pstep.ts.
 */
export type PolicyEstimator = "sampled" | "exact" | "hybrid";

/** Every estimator, for argument checking. */
export const POLICY_ESTIMATORS: readonly PolicyEstimator[] = ["sampled", "exact", "hybrid"];

/** The resolved configuration of one training run. */
export interface TrainConfig {
  /** The profile whose defaults this config started from (it also sets the evaluation sizes). */
  readonly profile: ProfileName;
  /** Dataset: "shifted" (84×84, 289 crops) or "original" (28×28, 9 crops). */
  readonly data: DatasetName;
  readonly method: Method;
  /** Seed of every random draw: initialisation, shuffling, crop sampling. */
  readonly seed: number;
  /** Training images used: the first `trainSize` of the 60,000. */
  readonly trainSize: number;
  readonly epochs: number;
  /** Images per iteration. */
  readonly batch: number;
  /** m: crops per image drawn from P(T|X) for the h-step (paper: 8). */
  readonly crops: number;
  /** Crops per image drawn uniformly for the P-step (the exact estimator: for its denominator). */
  readonly policyCrops: number;
  /** The P-step's estimator of objective (2). */
  readonly policyEstimator: PolicyEstimator;
  /** Whether a crop's own term stays in its numerator, as objective (2) has it. */
  readonly policySelf: boolean;
  /**
   * Iterations at the start that train h on uniform crops with no P-step (SimCLR's iterations),
   * before P(T|X) is used and trained. Not in the paper: 0 is the paper's method.
   */
  readonly warmup: number;
  /**
   * P-steps before this iteration use the sampled estimator whatever `policyEstimator` says: the
   * exact and hybrid estimators leave a uniform P where it is, the sampled one moves it. Not in
   * the paper; 0 is the paper's method.
   */
  readonly policySampledSteps: number;
  /**
   * A P-step after every this many h-steps. The paper trains h and P(T|X) "in turn": 1. A larger
   * value lets h adapt to each P before P moves again.
   */
  readonly policyEvery: number;
  /** Adam step size of the encoder h. */
  readonly lr: number;
  /** Adam step size of P(T|X). */
  readonly policyLr: number;
  /** λ, weight of H(T|X) in the P-step (paper: 0.0025). */
  readonly lambda: number;
  /** β, inverse temperature (paper: 0.5 on shifted MNIST, 1.0 on original MNIST). */
  readonly beta: number;
  /** Width of the projection head's output (paper: 50; 2 for Fig. 6). */
  readonly headDim: number;
  /** tfjs backend. */
  readonly backend: BackendChoice;
}

/** What evaluation uses of each split. */
export interface EvalConfig {
  /** Training images the linear probe is fitted on (the first n). */
  readonly probeTrainSize: number;
  /** Test images it is scored on (the first n). */
  readonly probeTestSize: number;
  /** Random test pairs for the uniformity potential and Fig. 8. */
  readonly uniformityPairs: number;
  /** Training images of the landscape of objective (2) (`deno task landscape`, the first n). */
  readonly landscapeImages: number;
}

/** The options a profile fixes; data, method and seed come per run. */
export type ProfileDefaults = Omit<TrainConfig, "profile" | "data" | "method" | "seed" | "beta">;

/** A named set of defaults. */
export interface Profile {
  readonly name: ProfileName;
  readonly description: string;
  readonly train: ProfileDefaults;
  readonly eval: EvalConfig;
  readonly seeds: readonly number[];
}

/** The profiles. */
export type ProfileName = "smoke" | "paper" | "medium";

/** Every profile name, for argument checking. */
export const PROFILE_NAMES: readonly ProfileName[] = ["smoke", "paper", "medium"];

/** β by dataset, as in the paper. */
export const PAPER_BETA: Readonly<Record<DatasetName, number>> = { shifted: 0.5, original: 1.0 };

const PAPER_TRAIN: ProfileDefaults = {
  trainSize: 60_000,
  epochs: 100,
  batch: 256,
  crops: 8,
  policyCrops: 8,
  policyEstimator: "sampled",
  policySelf: false,
  warmup: 0,
  policySampledSteps: 0,
  policyEvery: 1,
  lr: 1e-3,
  policyLr: 1e-3,
  lambda: 0.0025,
  headDim: 50,
  backend: "auto",
};

/**
 * The profiles. Why each value was chosen is in REPRODUCE.md ("Choices").
 *
 * - `paper`: full MNIST; the paper does not give epochs, batch or step size, so these are ours.
 * - `smoke`: the same pipeline, small enough that all 16 runs finish on a 2-core CPU in CI.
 * - `medium`: the largest scale at which one shifted CRL-TAC run takes about an hour on one CPU
 *   core, the scale at which this package tests the paper's accuracy claim on 2-core machines.
 */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  paper: {
    name: "paper",
    description: "the paper's setting on full MNIST (60,000 / 10,000)",
    train: PAPER_TRAIN,
    eval: { probeTrainSize: 60_000, probeTestSize: 10_000, uniformityPairs: 10_000, landscapeImages: 1024 },
    seeds: [0, 1, 2, 3],
  },
  smoke: {
    name: "smoke",
    description: "small subsets and few steps, for CI on a 2-core CPU",
    // The paper profile's pipeline and hyper-parameters, on 2,048 images for 32 iterations.
    train: { ...PAPER_TRAIN, trainSize: 2048, epochs: 1, batch: 64 },
    eval: { probeTrainSize: 1024, probeTestSize: 1000, uniformityPairs: 2000, landscapeImages: 64 },
    seeds: [0, 1, 2, 3],
  },
  medium: {
    name: "medium",
    description: "16,384 training images for 3 epochs (768 iterations), λ = 0.001, probes on 5,000 / 5,000",
    // λ by the paper's rule (lowest training h-loss over {0.001, 0.0025, 0.005}) in the P-step sweep
    // on 8,192 images (REPRODUCE.md, "The P-step study").
    train: { ...PAPER_TRAIN, trainSize: 16_384, epochs: 3, batch: 64, lambda: 0.001 },
    eval: { probeTrainSize: 5000, probeTestSize: 5000, uniformityPairs: 5000, landscapeImages: 256 },
    seeds: [0, 1, 2, 3],
  },
};

/** A bad configuration value: the field, its value as text, and the rule it breaks. */
export class ConfigError extends Error {
  constructor(readonly field: string, readonly value: string, readonly rule: string) {
    super(`Config ${field} = ${value}: ${rule}`);
    this.name = "ConfigError";
  }
}

/** The options a command line may override; an undefined value keeps the profile's. */
export type TrainOverrides = {
  readonly [K in Exclude<keyof TrainConfig, "profile" | "data" | "method" | "seed">]?: TrainConfig[K] | undefined;
};

/**
 * The configuration of one run: the profile's defaults, β by dataset, then the overrides.
 *
 * @throws {ConfigError} If a value is out of range.
 */
export function resolveConfig(
  profile: ProfileName,
  data: DatasetName,
  method: Method,
  seed: number,
  overrides: TrainOverrides = {},
): TrainConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config: TrainConfig = {
    profile,
    data,
    method,
    seed,
    beta: PAPER_BETA[data],
    ...PROFILES[profile].train,
    ...defined,
  };
  validateConfig(config);
  return config;
}

/**
 * Checks every field of a configuration.
 *
 * @throws {ConfigError} Naming the first bad field and its value.
 */
export function validateConfig(c: TrainConfig): void {
  const check = (ok: boolean, field: keyof TrainConfig, rule: string) => {
    if (!ok) throw new ConfigError(field, JSON.stringify(c[field]), rule);
  };
  const int = (v: number, min: number) => Number.isInteger(v) && v >= min;
  check(int(c.seed, 0), "seed", "must be an integer ≥ 0");
  check(int(c.trainSize, 2) && c.trainSize <= 60_000, "trainSize", "must be an integer in 2..60000");
  check(int(c.epochs, 1), "epochs", "must be an integer ≥ 1");
  check(int(c.batch, 2), "batch", "must be an integer ≥ 2 (a contrastive batch needs two images)");
  check(c.batch <= c.trainSize, "batch", `must not exceed trainSize (${c.trainSize})`);
  check(int(c.crops, 2), "crops", "must be an integer ≥ 2 (the numerator compares crops of one image)");
  check(int(c.policyCrops, 2), "policyCrops", "must be an integer ≥ 2");
  check(
    POLICY_ESTIMATORS.includes(c.policyEstimator),
    "policyEstimator",
    `must be one of ${POLICY_ESTIMATORS.join(", ")}`,
  );
  check(typeof c.policySelf === "boolean", "policySelf", "must be true or false");
  check(int(c.warmup, 0), "warmup", "must be an integer ≥ 0");
  check(int(c.policySampledSteps, 0), "policySampledSteps", "must be an integer ≥ 0");
  check(int(c.policyEvery, 1), "policyEvery", "must be an integer ≥ 1");
  check(c.lr > 0 && Number.isFinite(c.lr), "lr", "must be a positive number");
  check(c.policyLr > 0 && Number.isFinite(c.policyLr), "policyLr", "must be a positive number");
  check(c.lambda >= 0 && Number.isFinite(c.lambda), "lambda", "must be a number ≥ 0");
  check(c.beta > 0 && Number.isFinite(c.beta), "beta", "must be a positive number");
  check(int(c.headDim, 1), "headDim", "must be an integer ≥ 1");
}

/** Iterations in one epoch: the last partial batch is dropped, as every batch must be full. */
export function iterationsPerEpoch(c: TrainConfig): number {
  return Math.floor(c.trainSize / c.batch);
}

/**
 * The values of fields added after runs were first saved: a config read from an older
 * `summary.json` or checkpoint lacks them and trained with these.
 */
const ADDED_FIELDS = {
  policyEstimator: "sampled",
  policySelf: false,
  warmup: 0,
  policySampledSteps: 0,
  policyEvery: 1,
} as const;

/** A saved config with the fields it predates filled in with the values it trained with. */
export function upgradeConfig(saved: TrainConfig): TrainConfig {
  return { ...ADDED_FIELDS, ...saved };
}

/** Whether two configs train the same model: equal in every field but the backend. */
export function sameScience(saved: TrainConfig, other: TrainConfig): boolean {
  const a = upgradeConfig(saved), b = upgradeConfig(other);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof TrainConfig>;
  return [...keys].every((k) => k === "backend" || a[k] === b[k]);
}
