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
 * evaluation of one image (all-crop features, and P(T|X) for CRL-TAC). Means over the four seeds
 * of the smoke study (batch 64) in a clean-clone CI run at commit 354e974 on a 2-core Xeon, wasm
 * backend, one run per core (REPRODUCE.md). The paper profile's batch of 256 took 0.054 s per
 * image too. The oracle ablation trains as SimCLR does (an h-step, no P-step), and is taken to
 * cost the same.
 */
const SECONDS_PER_IMAGE: Record<string, { train: number; eval: number }> = {
  "shifted/crltac": { train: 0.0542, eval: 0.0187 },
  "shifted/simclr": { train: 0.0109, eval: 0.0120 },
  "shifted/oracle": { train: 0.0109, eval: 0.0120 },
  "original/crltac": { train: 0.0171, eval: 0.0021 },
  "original/simclr": { train: 0.0119, eval: 0.0014 },
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
