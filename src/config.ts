/**
 * Every hyper-parameter of a run in one typed object, the named profiles that set their defaults,
 * and the checks that reject a bad value before any work starts.
 *
 * @module
 */

import { BACKEND_CHOICES, type BackendChoice } from "./backend.ts";
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
 * with every crop of each image in the outer expectation and the numerator ("exact-own"), or with the
 * sampled crops scored against every crop of their image in the numerator ("exact-numerator"); see
 * src/objective/pstep.ts.
 */
export type PolicyEstimator = "sampled" | "exact-own" | "exact-numerator";

/** Every estimator, for argument checking. */
export const POLICY_ESTIMATORS: readonly PolicyEstimator[] = ["sampled", "exact-own", "exact-numerator"];

/** The paper's hyper-parameters of one run, with the run's identity and backend. */
export interface PaperConfig {
  /** The profile whose defaults this config started from (it also sets the evaluation sizes). */
  readonly profile: ProfileName;
  /** Dataset: "shifted" (84×84, 289 crops) or "original" (28×28, 9 crops). */
  readonly data: DatasetName;
  /** `crltac` (P(T|X) learned), `simclr` (P fixed uniform) or `oracle` (P fixed on the whole-digit crops). */
  readonly method: Method;
  /** Seed of every random draw: initialisation, shuffling, crop sampling. */
  readonly seed: number;
  /** Training images used: the first `trainSize` of the 60,000. */
  readonly trainSize: number;
  /** Passes over the training images. */
  readonly epochs: number;
  /** Images per iteration. */
  readonly batch: number;
  /** m: crops per image drawn from P(T|X) for the h-step (paper: 8). */
  readonly crops: number;
  /** k: crops per image drawn uniformly for the P-step. */
  readonly policyCrops: number;
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

/**
 * Experiments beside the paper: the P-step study's knobs (REPRODUCE.md, "The P-step study").
 * Their defaults are the paper's method, so a run that sets none trains as the paper says.
 */
export interface PStepExperiment {
  /**
   * The P-step's estimator of objective (2). Default: "sampled", the paper's k uniform crops
   * weighted by P(t|x); the others are this package's.
   */
  readonly policyEstimator: PolicyEstimator;
  /** Whether a crop's own term stays in its numerator, as objective (2) has it. Default: false. */
  readonly policySelf: boolean;
  /** Iterations at the start that train h on uniform crops with no P-step (SimCLR's). Default: 0. */
  readonly warmup: number;
  /**
   * P-steps before this iteration use the sampled estimator whatever `policyEstimator` says: the
   * exact-own and exact-numerator estimators leave a uniform P where it is, the sampled one moves it. Default: 0.
   */
  readonly policySampledSteps: number;
  /**
   * A P-step after every this many h-steps. Default: 1, as the paper trains h and P(T|X) "in turn";
   * a larger value lets h adapt to each P before P moves again.
   */
  readonly policyEvery: number;
}

/** The resolved configuration of one training run: the paper's fields and the experiments'. */
export type TrainConfig = PaperConfig & PStepExperiment;

/** The experiments' fields, which `--help` lists apart from the paper's. */
export const EXPERIMENT_KEYS: readonly (keyof PStepExperiment)[] = [
  "policyEstimator",
  "policySelf",
  "warmup",
  "policySampledSteps",
  "policyEvery",
];

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
  /** The name `--profile` takes. */
  readonly name: ProfileName;
  /** What the profile is for, in one line (as `--help` lists it). */
  readonly description: string;
  /** Its training defaults. */
  readonly train: ProfileDefaults;
  /** Its evaluation sizes. */
  readonly eval: EvalConfig;
  /** The seeds a study trains each method with. */
  readonly seeds: readonly number[];
}

/** The profiles. */
export type ProfileName = "smoke" | "paper" | "medium";

/** Every profile name, for argument checking, smallest first (as `--help` lists them). */
export const PROFILE_NAMES: readonly ProfileName[] = ["smoke", "medium", "paper"];

/** β by dataset, as in the paper. */
export const PAPER_BETA: Readonly<Record<DatasetName, number>> = { shifted: 0.5, original: 1.0 };

/** The fields a command line may set for a run: all but the run's identity. */
export type FieldKey = Exclude<keyof TrainConfig, "profile" | "data" | "method" | "seed">;

/** How a field's values are read and checked. */
export type FieldValue =
  | { readonly kind: "int"; readonly min: number; readonly max?: number }
  | { readonly kind: "number"; readonly min: number; readonly exclusive: boolean }
  | { readonly kind: "choice"; readonly choices: readonly string[] }
  | { readonly kind: "switch" };

/** One field of the config: its default, its check, its command-line flag and help line. */
export interface FieldSpec<T> {
  /** The command-line option, without its dashes. */
  readonly flag: string;
  /** The value's placeholder in `--help`; switches (`--x` / `--no-x`) have none. */
  readonly placeholder?: string;
  /** Its line in `--help`, after the flag. */
  readonly help: string;
  /** How its values are read and checked. */
  readonly value: FieldValue;
  /** The default: one for every profile and dataset, one per profile, or one per dataset. */
  readonly default:
    | T
    | { readonly byProfile: Readonly<Record<ProfileName, T>> }
    | { readonly byDataset: Readonly<Record<DatasetName, T>> };
}

const int = (min: number, max?: number): FieldValue => ({ kind: "int", min, ...(max === undefined ? {} : { max }) });
const positive: FieldValue = { kind: "number", min: 0, exclusive: true };

/**
 * A run's seed. The generator folds a seed to 32 bits (`Prng.fromSeed`), so past 2^32 − 1 two
 * seeds would share a run.
 */
export const SEED_VALUE = { kind: "int", min: 0, max: 2 ** 32 - 1 } as const satisfies FieldValue;

/**
 * Every field a run's command line may set, in the order `--help` lists them. Why each default
 * was chosen is in REPRODUCE.md ("Profiles", "Choices").
 */
export const CONFIG_FIELDS: { readonly [K in FieldKey]: FieldSpec<TrainConfig[K]> } = {
  epochs: {
    flag: "epochs",
    placeholder: "N",
    help: "epochs over the training subset",
    value: int(1, 10_000),
    default: { byProfile: { paper: 100, medium: 3, smoke: 1 } },
  },
  batch: {
    flag: "batch",
    placeholder: "N",
    help: "images per iteration (a contrastive batch needs two)",
    // A sanity bound, 16× the paper's 256: the paper's 2,048 crops per step already take ~2 GB
    // (REPRODUCE.md's step timings).
    value: int(2, 4096),
    default: { byProfile: { paper: 256, medium: 64, smoke: 64 } },
  },
  trainSize: {
    flag: "train-size",
    placeholder: "N",
    help: "training images used (the first N of 60,000)",
    value: int(2, 60_000),
    default: { byProfile: { paper: 60_000, medium: 16_384, smoke: 2048 } },
  },
  crops: {
    flag: "crops",
    placeholder: "N",
    help: "m: crops per image sampled from P(T|X) for the h-step",
    value: int(2, 1024),
    default: 8,
  },
  policyCrops: {
    flag: "policy-crops",
    placeholder: "N",
    help: "k: uniform crops per image for the P-step (exact-own: for its denominator)",
    value: int(2, 1024),
    default: 8,
  },
  policyEstimator: {
    flag: "policy-estimator",
    placeholder: "NAME",
    help:
      "the P-step's estimator of (2): sampled (from k uniform crops per image), exact-own (every crop of the own image " +
      "exact, other images sampled) or exact-numerator (only the numerator over every crop)",
    value: { kind: "choice", choices: POLICY_ESTIMATORS },
    default: "sampled",
  },
  policySelf: {
    flag: "policy-self",
    help: "keep each crop's own term in the P-step's numerator, as objective (2) has it",
    value: { kind: "switch" },
    default: false,
  },
  warmup: {
    flag: "warmup",
    placeholder: "N",
    help: "first N iterations on uniform crops without P-step",
    value: int(0),
    default: 0,
  },
  policySampledSteps: {
    flag: "policy-sampled-steps",
    placeholder: "N",
    help: "first N iterations' P-steps with the sampled estimator",
    value: int(0),
    default: 0,
  },
  policyEvery: {
    flag: "policy-every",
    placeholder: "N",
    help: "a P-step after every N h-steps (paper: 1, in turn)",
    value: int(1),
    default: 1,
  },
  lr: { flag: "lr", placeholder: "X", help: "Adam step size of the encoder", value: positive, default: 1e-3 },
  policyLr: { flag: "policy-lr", placeholder: "X", help: "Adam step size of P(T|X)", value: positive, default: 1e-3 },
  lambda: {
    flag: "lambda",
    placeholder: "X",
    help: "λ, weight of the entropy H(T|X) in the P-step",
    value: { kind: "number", min: 0, exclusive: false },
    // Medium: λ by the paper's rule (lowest training h-loss over {0.001, 0.0025, 0.005}) in the
    // P-step sweep on 8,192 images (REPRODUCE.md, "The P-step study").
    default: { byProfile: { paper: 0.0025, medium: 0.001, smoke: 0.0025 } },
  },
  beta: {
    flag: "beta",
    placeholder: "X",
    help: `β, inverse temperature (default ${PAPER_BETA.shifted} shifted, ${PAPER_BETA.original} original)`,
    value: positive,
    default: { byDataset: PAPER_BETA },
  },
  headDim: {
    flag: "head-dim",
    placeholder: "N",
    help: "projection head width (2 gives the paper's Fig. 6)",
    value: int(1, 4096),
    default: 50,
  },
  backend: {
    flag: "backend",
    placeholder: "NAME",
    help: "auto, wasm, webgpu or cpu (auto: webgpu on a real GPU, else wasm)",
    value: { kind: "choice", choices: BACKEND_CHOICES },
    default: "auto",
  },
};

/** The fields in `--help` order. */
export const FIELD_KEYS = Object.keys(CONFIG_FIELDS) as FieldKey[];

/** A field's default under `profile` on `data`. */
function fieldDefault<K extends FieldKey>(key: K, profile: ProfileName, data: DatasetName): TrainConfig[K] {
  const d = CONFIG_FIELDS[key].default as FieldSpec<TrainConfig[K]>["default"];
  if (typeof d !== "object" || d === null) return d;
  return "byProfile" in d ? d.byProfile[profile] : d.byDataset[data];
}

/** The defaults of every field but β (which goes by dataset) under `profile`. */
function profileDefaults(profile: ProfileName): ProfileDefaults {
  const keys = FIELD_KEYS.filter((k) => k !== "beta");
  return Object.fromEntries(keys.map((k) => [k, fieldDefault(k, profile, "shifted")])) as unknown as ProfileDefaults;
}

/**
 * The profiles.
 *
 * - `paper`: full MNIST; the paper does not give epochs, batch or step size, so these are ours.
 * - `smoke`: the same pipeline, small enough that the whole study finishes on a 2-core CPU in CI.
 * - `medium`: the largest scale at which one shifted CRL-TAC run takes about an hour on one CPU
 *   core, the scale at which this package tests the paper's accuracy claim on 2-core machines.
 */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  paper: {
    name: "paper",
    description: "the paper's setting on full MNIST (60,000 / 10,000)",
    train: profileDefaults("paper"),
    eval: { probeTrainSize: 60_000, probeTestSize: 10_000, uniformityPairs: 10_000, landscapeImages: 1024 },
    seeds: [0, 1, 2, 3],
  },
  smoke: {
    name: "smoke",
    description: "small subsets and few steps, for CI on a 2-core CPU",
    train: profileDefaults("smoke"),
    eval: { probeTrainSize: 1024, probeTestSize: 1000, uniformityPairs: 2000, landscapeImages: 32 },
    seeds: [0, 1, 2, 3],
  },
  medium: {
    name: "medium",
    description: "16,384 training images for 3 epochs (768 iterations), λ = 0.001, probes on 5,000 / 5,000",
    train: profileDefaults("medium"),
    eval: { probeTrainSize: 5000, probeTestSize: 5000, uniformityPairs: 5000, landscapeImages: 256 },
    seeds: [0, 1, 2, 3],
  },
};

/** A bad configuration value: the field, its value as text, and the rule it breaks. */
export class ConfigError extends Error {
  /**
   * The error `Config FIELD = VALUE: RULE`.
   *
   * @param field The field's name.
   * @param value Its value, as given.
   * @param rule The rule it breaks.
   */
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
 * The configuration of one run: the fields' defaults under the profile and dataset, then the
 * overrides.
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
  const config = {
    profile,
    data,
    method,
    seed,
    ...Object.fromEntries(FIELD_KEYS.map((k) => [k, fieldDefault(k, profile, data)])),
    ...defined,
  } as TrainConfig;
  validateConfig(config);
  return config;
}

/** The rule a field's value must follow, in words: "must be an integer in 1..10000". */
export function fieldRule(value: FieldValue): string {
  switch (value.kind) {
    case "int":
      return value.max === undefined
        ? `must be an integer ≥ ${value.min}`
        : `must be an integer in ${value.min}..${value.max}`;
    case "number":
      return value.exclusive && value.min === 0 ? "must be a positive number" : `must be a number ≥ ${value.min}`;
    case "choice":
      return `must be one of ${value.choices.join(", ")}`;
    case "switch":
      return "must be true or false";
  }
}

/** Whether `v` follows the field's rule. */
function follows(value: FieldValue, v: unknown): boolean {
  switch (value.kind) {
    case "int":
      return Number.isInteger(v) && (v as number) >= value.min &&
        (value.max === undefined || (v as number) <= value.max);
    case "number":
      return typeof v === "number" && Number.isFinite(v) && (value.exclusive ? v > value.min : v >= value.min);
    case "choice":
      return value.choices.includes(v as string);
    case "switch":
      return typeof v === "boolean";
  }
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
  check(follows(SEED_VALUE, c.seed), "seed", fieldRule(SEED_VALUE));
  for (const key of FIELD_KEYS) {
    check(follows(CONFIG_FIELDS[key].value, c[key]), key, fieldRule(CONFIG_FIELDS[key].value));
  }
  check(c.batch <= c.trainSize, "batch", `must not exceed trainSize (${c.trainSize})`);
}

/** Iterations in one epoch: the last partial batch is dropped, as every batch must be full. */
export function iterationsPerEpoch(c: TrainConfig): number {
  return Math.floor(c.trainSize / c.batch);
}

/**
 * How a saved config trains a different model from `other`: one `field saved (not other)` per
 * differing field, the backend aside (a run may resume on another backend); none when the same.
 */
export function scienceDiff(saved: TrainConfig, other: TrainConfig): string[] {
  const keys = new Set([...Object.keys(saved), ...Object.keys(other)]) as Set<keyof TrainConfig>;
  return [...keys].filter((k) => k !== "backend" && saved[k] !== other[k]).map((k) =>
    `${k} ${JSON.stringify(saved[k])} (not ${JSON.stringify(other[k])})`
  );
}

/** Whether two configs train the same model: equal in every field but the backend. */
export function sameScience(saved: TrainConfig, other: TrainConfig): boolean {
  return scienceDiff(saved, other).length === 0;
}
