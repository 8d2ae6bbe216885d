/**
 * Whether a P-step fits the memory of tfjs's wasm backend, whose heap (wasm32) cannot grow past
 * 4 GiB: a step that needs more dies with "memory access out of bounds". The exact-own and exact-numerator
 * estimators embed every crop of every image of the batch, and the exact-own one also keeps kernels
 * of N·|T| × N·k entries (every crop against the k drawn crops of every image), so at batches
 * the sampled estimator trains at they need more. Training refuses such a run before it starts;
 * the bench times that step at a batch that fits.
 *
 * The estimate is fitted to the wasm heap measured after one P-step at the paper's settings, and
 * its budget leaves room for what the process allocated before the step (the measurements:
 * REPRODUCE.md, "Choices the paper leaves open", the exact-own estimator).
 *
 * @module
 */

import { UserError } from "../cli.ts";
import type { PolicyEstimator, TrainConfig } from "../config.ts";
import { cropGrid } from "../data/crops.ts";
import { datasetSide } from "../data/dataset.ts";

/** What a P-step on wasm may take: 4 GiB less room for what the process holds and the heap's gaps. */
export const WASM_PSTEP_BUDGET = 2.5 * 2 ** 30;

/** The wasm heap taken per 84×84 image by the all-crop pass of the exact-own and exact-numerator estimators. */
const ALL_CROP_BYTES_84 = 8.6 * 2 ** 20;

/** The wasm heap taken by the exact-own estimator per byte of its N·|T| × N·k kernel. */
const EXACT_OWN_KERNEL_FACTOR = 4.7;

/** What the estimate reads of a run's config. */
export type PolicyStepShape = Pick<TrainConfig, "batch" | "policyCrops" | "policyEstimator" | "data">;

/** The wasm heap one P-step takes, in bytes (none counted for the sampled estimator, which embeds k crops an image). */
export function pStepWasmBytes(p: PolicyStepShape): number {
  if (p.policyEstimator === "sampled") return 0;
  const side = datasetSide(p.data), crops = cropGrid(side).count;
  const allCrops = p.batch * ALL_CROP_BYTES_84 * (side / 84) ** 2;
  const kernel = p.policyEstimator === "exact-own"
    ? EXACT_OWN_KERNEL_FACTOR * 4 * p.batch ** 2 * crops * p.policyCrops
    : 0;
  return allCrops + kernel;
}

/** The largest batch, at most `p.batch`, whose P-step fits the wasm budget (at least 2). */
export function largestWasmBatch(p: PolicyStepShape): number {
  let batch = p.batch;
  while (batch > 2 && pStepWasmBytes({ ...p, batch }) > WASM_PSTEP_BUDGET) batch--;
  return batch;
}

/**
 * Refuses a run whose P-step does not fit the wasm backend's memory, when it trains there.
 *
 * @throws {UserError} Naming the estimator, the batch, and the largest batch that fits.
 */
export function checkFitsWasm(config: TrainConfig, backend: string): void {
  if (backend !== "wasm" || pStepWasmBytes(config) <= WASM_PSTEP_BUDGET) return;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  const others: PolicyEstimator[] = config.policyEstimator === "exact-own"
    ? ["exact-numerator", "sampled"]
    : ["sampled"];
  throw new UserError(
    `--policy-estimator ${config.policyEstimator} at --batch ${config.batch}: its P-step needs about ` +
      `${gib(pStepWasmBytes(config))} GiB, past the ${gib(WASM_PSTEP_BUDGET)} GiB the wasm backend has for it; ` +
      `on wasm use --batch ${largestWasmBatch(config)} or less, --policy-estimator ${others.join(" or ")}, ` +
      "or a GPU (--backend webgpu)",
  );
}
