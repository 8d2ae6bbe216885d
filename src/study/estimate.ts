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
 * Seconds per training image of one iteration (m = 8 crops, and the P-step for CRL-TAC), by the
 * batch it was measured at, one run per core of a 2-core machine, wasm backend: at batch 64 the
 * means over the four seeds of the smoke study in a clean-clone CI run at commit 354e974 (2-core
 * Xeon); at the paper's batch of 256, shifted CRL-TAC's median iteration over 15 (13.8 s) and the
 * paper-scale oracle and SimCLR runs' median over their iterations 1,026–1,120 (3.6 and 3.5 s;
 * REPRODUCE.md, "Paper profile"). A batch costs what its nearest measured batch costs per image:
 * the encoder-only runs' h-step grows faster than the batch (its [B,B] similarities). The oracle
 * ablation trains as SimCLR does (an h-step, no P-step).
 */
const TRAIN_SECONDS_PER_IMAGE: Record<string, readonly (readonly [batch: number, seconds: number])[]> = {
  "shifted/crltac": [[64, 0.0542], [256, 0.0539]],
  "shifted/simclr": [[64, 0.0109], [256, 0.0136]],
  "shifted/oracle": [[64, 0.0109], [256, 0.0141]],
  "original/crltac": [[64, 0.0171]],
  "original/simclr": [[64, 0.0119]],
};

/** Seconds to evaluate one image (all-crop features, and P(T|X) for CRL-TAC), from the same smoke study. */
const EVAL_SECONDS_PER_IMAGE: Record<string, number> = {
  "shifted/crltac": 0.0187,
  "shifted/simclr": 0.0120,
  "shifted/oracle": 0.0120,
  "original/crltac": 0.0021,
  "original/simclr": 0.0014,
};

/** The cost per training image at `batch`: that of the measured batch nearest to it on a log scale. */
export function trainSecondsPerImage(kind: string, batch: number): number {
  const measured = TRAIN_SECONDS_PER_IMAGE[kind];
  if (!measured) throw new RangeError(`No step cost measured for ${kind}`);
  const distance = (b: number) => Math.abs(Math.log(b / batch));
  return measured.reduce((best, m) => distance(m[0]) < distance(best[0]) ? m : best)[1];
}

/** Estimated wall time of `runs` under `profile`, `jobs` at a time. */
export function estimateStudySeconds(profile: ProfileName, runs: readonly RunSpec[], jobs: number): number {
  const p = PROFILES[profile];
  const total = runs.reduce((sum, r) => {
    const c = resolveConfig(profile, r.data, r.method, r.seed);
    const kind = `${r.data}/${r.method}`;
    const trained = iterationsPerEpoch(c) * c.epochs * c.batch;
    return sum + trained * trainSecondsPerImage(kind, c.batch) +
      (p.eval.probeTrainSize + p.eval.probeTestSize) * EVAL_SECONDS_PER_IMAGE[kind]!;
  }, 0);
  return total / Math.max(1, jobs);
}
