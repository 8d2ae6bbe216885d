/**
 * The command-line options that override a profile's hyper-parameters, in one table: `train`
 * reads them, a study or sweep writes them for the runs it starts, and `--help` lists them.
 *
 * @module
 */

import { BACKEND_CHOICES } from "../backend.ts";
import { choice, int, number, type OptionSpec, type Parse } from "../cli.ts";
import { type ConfigError, POLICY_ESTIMATORS, type TrainOverrides } from "../config.ts";

/** How one override is spelt, read and described. */
interface OverrideOption {
  readonly key: keyof TrainOverrides;
  readonly flag: string;
  /** Reads its value; a switch (`--x` / `--no-x`) when absent. */
  readonly parse?: Parse<unknown>;
  /** The value's placeholder in `--help`. */
  readonly placeholder?: string;
  readonly help: string;
}

/** Every override, in the order `--help` lists them. */
export const OVERRIDE_OPTIONS: readonly OverrideOption[] = [
  { key: "epochs", flag: "epochs", parse: int(1), placeholder: "N", help: "epochs over the training subset" },
  { key: "batch", flag: "batch", parse: int(1), placeholder: "N", help: "images per iteration" },
  {
    key: "trainSize",
    flag: "train-size",
    parse: int(1),
    placeholder: "N",
    help: "training images used (the first N of 60,000)",
  },
  {
    key: "crops",
    flag: "crops",
    parse: int(1),
    placeholder: "N",
    help: "m: crops per image sampled from P(T|X) for the h-step",
  },
  {
    key: "policyCrops",
    flag: "policy-crops",
    parse: int(1),
    placeholder: "N",
    help: "k: uniform crops per image for the P-step (exact: for its denominator)",
  },
  {
    key: "policyEstimator",
    flag: "policy-estimator",
    parse: choice(POLICY_ESTIMATORS),
    placeholder: "NAME",
    help: "the P-step's estimator: sampled (k uniform crops per image) or exact (every crop)",
  },
  {
    key: "policySelf",
    flag: "policy-self",
    help: "keep each crop's own term in the P-step's numerator, as objective (2) has it",
  },
  {
    key: "warmup",
    flag: "warmup",
    parse: int(0),
    placeholder: "N",
    help: "first N iterations on uniform crops without P-step (not in the paper)",
  },
  {
    key: "policySampledSteps",
    flag: "policy-sampled-steps",
    parse: int(0),
    placeholder: "N",
    help: "first N iterations' P-steps with the sampled estimator (not in the paper)",
  },
  {
    key: "policyEvery",
    flag: "policy-every",
    parse: int(1),
    placeholder: "N",
    help: "a P-step after every N h-steps (paper: 1, in turn)",
  },
  { key: "lr", flag: "lr", parse: number(), placeholder: "X", help: "Adam step size of the encoder" },
  { key: "policyLr", flag: "policy-lr", parse: number(), placeholder: "X", help: "Adam step size of P(T|X)" },
  {
    key: "lambda",
    flag: "lambda",
    parse: number(),
    placeholder: "X",
    help: "λ, weight of the entropy H(T|X) in the P-step",
  },
  {
    key: "beta",
    flag: "beta",
    parse: number(),
    placeholder: "X",
    help: "β, inverse temperature (default 0.5 shifted, 1.0 original)",
  },
  {
    key: "headDim",
    flag: "head-dim",
    parse: int(1),
    placeholder: "N",
    help: "projection head width (50; 2 gives the paper's Fig. 6)",
  },
  {
    key: "backend",
    flag: "backend",
    parse: choice(BACKEND_CHOICES),
    placeholder: "NAME",
    help: "auto, wasm, webgpu or cpu (auto: webgpu on a real GPU, else wasm)",
  },
];

/**
 * A bad configuration in the command line's words: `--batch 1: must be …` when the option was
 * given, the profile's value named otherwise (`batch 4096 (the profile's) must not exceed …`).
 */
export function configErrorText(e: ConfigError, overrides: TrainOverrides): string {
  const option = OVERRIDE_OPTIONS.find((o) => o.key === e.field);
  const given = option && overrides[option.key] !== undefined;
  return given ? `--${option.flag} ${e.value}: ${e.rule}` : `${e.field} = ${e.value} (from the profile): ${e.rule}`;
}

/** The overrides' option specifications, for {@linkcode parseCli}. */
export function overrideSpecs(): Record<string, OptionSpec> {
  return Object.fromEntries(
    OVERRIDE_OPTIONS.map((o) => [o.flag, o.parse ? { type: "string", parse: o.parse } : { type: "boolean" }]),
  );
}

/** The overrides' lines of a usage text, aligned at `width`. */
export function overrideUsage(width = 21): string {
  return OVERRIDE_OPTIONS.map((o) => {
    const name = o.parse ? `--${o.flag} ${o.placeholder}` : `--[no-]${o.flag}`;
    return `  ${name.padEnd(width)}${o.help}`;
  }).join("\n");
}

/** The overrides among parsed option values (undefined where not given). */
export function readOverrides(values: Readonly<Record<string, unknown>>): TrainOverrides {
  return Object.fromEntries(OVERRIDE_OPTIONS.map((o) => [o.key, values[o.flag]])) as TrainOverrides;
}

/** The command-line arguments that give `overrides` (undefined ones left out). */
export function overrideArgs(overrides: TrainOverrides): string[] {
  return OVERRIDE_OPTIONS.flatMap((o) => {
    const v = overrides[o.key];
    if (v === undefined) return [];
    if (!o.parse) return [v ? `--${o.flag}` : `--no-${o.flag}`];
    return [`--${o.flag}`, String(v)];
  });
}
