/**
 * crl-tac: a reproduction of "Contrastive Representation Learning with Trainable Augmentation
 * Channel" (Koyama, Minami, Miyato, Gal; arXiv 2111.07679) in Deno and tfjs — the data, the
 * networks, both objectives, the trainer and the evaluation, as pieces to build on.
 *
 * Pick a tfjs backend before any tensor work: {@linkcode useBackend} takes WebGPU on a real GPU
 * and tfjs's wasm backend elsewhere.
 *
 * The datasets and the crop grid:
 *
 * ```ts
 * import { cropGrid, loadDataset, oracleCrops, cellSquare } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const test = await loadDataset("shifted", "test"); // MNIST digits pasted into 84×84 images
 * assert.equal(test.count, 10_000);
 * const grid = cropGrid(test.side);                    // 17 × 17 crops of 20 × 20 at stride 4
 * assert.equal(grid.count, 289);
 * assert.equal(oracleCrops(grid, cellSquare(test, 0)).length, 9);
 * ```
 *
 * The encoder and the h-step objective on a batch of crops:
 *
 * ```ts
 * import { embed, encoderSpecs, extractCrops, initialValues, jensenLoss, loadDataset, makeParams, Prng, tf, useBackend } from "./mod.ts";
 * import assert from "node:assert";
 *
 * await useBackend("wasm");
 * const ds = await loadDataset("original", "train");
 * const specs = encoderSpecs(50);
 * const encoder = makeParams(specs, initialValues(specs, Prng.fromSeed(0, "init")));
 * // Two images, m = 2 crops each (crop indices into the 3 × 3 grid of 28 × 28 MNIST).
 * const crops = tf.tensor4d(extractCrops(ds, [0, 0, 1, 1], [0, 8, 4, 2]), [4, 20, 20, 1]);
 * const loss = jensenLoss(embed(encoder, crops), 2, 1.0);
 * assert.ok(Number.isFinite(loss.dataSync()[0]));
 * ```
 *
 * @module
 */

export { BACKEND_CHOICES, type BackendChoice, type BackendInfo, type BackendName, useBackend } from "./src/backend.ts";
export { tf } from "./src/tf.ts";
export * from "./src/config.ts";
export * from "./src/data/prng.ts";
export * from "./src/data/idx.ts";
export * from "./src/data/mnist.ts";
export * from "./src/data/crops.ts";
export * from "./src/data/dataset.ts";
export * from "./src/model/params.ts";
export * from "./src/model/ops.ts";
export * from "./src/model/agreement.ts";
export * from "./src/model/encoder.ts";
export * from "./src/model/policy.ts";
export { jensenLoss } from "./src/objective/hstep.ts";
export { exactPolicyLoss, type PolicyLoss, policyLoss, type PolicyLossOptions } from "./src/objective/pstep.ts";
export { Adam, type AdamOptions, type AdamState } from "./src/train/adam.ts";
export { type Checkpoint, loadCheckpoint, saveCheckpoint } from "./src/train/checkpoint.ts";
export { type CropPolicy, learnedPolicy, uniformPolicy } from "./src/train/crop_policy.ts";
export {
  DivergenceError,
  type PolicySnapshot,
  type StepRecord,
  train,
  type TrainOptions,
  type TrainSummary,
} from "./src/train/trainer.ts";
export { runFiles, weightsHash } from "./src/train/run_folder.ts";
export * from "./src/data/crop_stats.ts";
export * from "./src/eval/features.ts";
export * from "./src/eval/metrics.ts";
export { fitProbe, probeAccuracy, type ProbeFit, type ProbeOptions } from "./src/eval/probe.ts";
export {
  type DrawFigures,
  type EvalResult,
  evaluateRaw,
  evaluateRun,
  type FigureInput,
  type RawResult,
} from "./src/eval/evaluate.ts";
export { runFigures } from "./src/report/run_figures.ts";
