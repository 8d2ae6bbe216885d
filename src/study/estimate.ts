/**
 * How long a study takes on a CPU, estimated from the step costs measured on a 2-core machine
 * with the wasm backend (REPRODUCE.md, performance notes). Printed before the paper profile is
 * started without a GPU, so that nobody starts a month-long run by accident.
 *
 * @module
 */

import { iterationsPerEpoch, type ProfileName, PROFILES, resolveConfig } from "../config.ts";
import type { RunSpec } from "./plan.ts";

/**
 * Seconds per image: one training iteration (m = 8 crops, and the P-step for CRL-TAC), and the
 * evaluation of one image (all-crop features, and P(T|X) for CRL-TAC). Measured with the smoke
 * profile (batch 64) on a 2-core Xeon, wasm backend, one run per core (REPRODUCE.md).
 */
const SECONDS_PER_IMAGE: Record<string, { train: number; eval: number }> = {
  "shifted/crltac": { train: 0.0625, eval: 0.0178 },
  "shifted/simclr": { train: 0.0137, eval: 0.0109 },
  "original/crltac": { train: 0.0205, eval: 0.0020 },
  "original/simclr": { train: 0.0137, eval: 0.0012 },
};

/** Estimated wall time of `runs` under `profile`, `jobs` at a time. */
export function estimateStudySeconds(profile: ProfileName, runs: readonly RunSpec[], jobs: number): number {
  const p = PROFILES[profile];
  const total = runs.reduce((sum, r) => {
    const c = resolveConfig(profile, r.data, r.method, r.seed);
    const cost = SECONDS_PER_IMAGE[`${r.data}/${r.method}`]!;
    const trained = iterationsPerEpoch(c) * c.epochs * c.batch;
    return sum + trained * cost.train + (p.eval.probeTrainSize + p.eval.probeTestSize) * cost.eval;
  }, 0);
  return total / Math.max(1, jobs);
}
