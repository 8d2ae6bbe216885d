/**
 * crl-tac: a reproduction of "Contrastive Representation Learning with Trainable Augmentation
 * Channel" (Koyama, Minami, Miyato, Gal; arXiv 2111.07679) in Deno and tfjs — the data, the
 * networks, both objectives with the P-step's three estimators, the trainer and the evaluation,
 * as pieces to build on. Only the paper's pieces are exported; kernels, backend workarounds and
 * report drawing stay inside the package, free to change.
 *
 * Pick a tfjs backend before any tensor work: {@linkcode useBackend} takes WebGPU on a real GPU
 * and tfjs's wasm backend elsewhere. Tensors in and out are tfjs 4.22.0's: make and read them
 * with `npm:@tensorflow/tfjs@4.22.0`: that version, the one this package imports, so that Deno
 * loads tfjs once. The tensor types are exported by name.
 *
 * The datasets and the crop grid:
 *
 * ```ts
 * import { cellSquare, cropGrid, loadDataset, wholeDigitCrops } from "./mod.ts";
 * import assert from "node:assert";
 *
 * const test = await loadDataset("shifted", "test"); // MNIST digits pasted into 84×84 images
 * assert.equal(test.count, 10_000);
 * const grid = cropGrid(test.side);                    // 17 × 17 crops of 20 × 20 at stride 4
 * assert.equal(grid.count, 289);
 * assert.equal(wholeDigitCrops(grid, cellSquare(test, 0)).length, 9);
 * ```
 *
 * One training iteration's two steps — the encoder's (h-step) on m crops per image, and P(T|X)'s
 * (P-step) from the forward pass that drew them — as the trainer takes them:
 *
 * ```ts
 * import * as tf from "npm:@tensorflow/tfjs@4.22.0";
 * import {
 *   encoderSpecs, hStep, initialValues, loadDataset, makeParams, policyForward, policySpecs, Prng, pStep,
 *   renderImages, takeFirst, useBackend,
 * } from "./mod.ts";
 * import assert from "node:assert";
 *
 * await useBackend("wasm");
 * const ds = takeFirst(await loadDataset("shifted", "train"), 2);
 * const rng = Prng.fromSeed(0, "init");
 * const encoder = makeParams(encoderSpecs(50), initialValues(encoderSpecs(50), rng));
 * const policy = makeParams(policySpecs(84, 289), initialValues(policySpecs(84, 289), rng));
 * // Two images, m = 2 crops each (indices into the 17 × 17 grid).
 * const h = hStep(encoder, ds, [0, 0, 1, 1], [144, 145, 40, 41], 2, 0.5);
 * const images = tf.tensor4d(renderImages(ds, [0, 1]), [2, 84, 84, 1]);
 * const forward = policyForward(policy, images);
 * const batch = { ds, indices: [0, 1], images: () => images };
 * // The P-step draws k = 2 uniform crops per image from `rng`.
 * const config = { policyCrops: 2, lambda: 0.0025, beta: 0.5, policyEstimator: "sampled", policySelf: false } as const;
 * const p = pStep(policy, forward, batch, encoder, rng, config, 289);
 * assert.ok(Number.isFinite(h.loss.dataSync()[0]!) && Number.isFinite(p.objective.dataSync()[0]!));
 * assert.deepEqual(Object.keys(p.grads).length, policySpecs(84, 289).length);
 * ```
 *
 * A linear probe with the two protocols evaluation uses:
 *
 * ```ts
 * import { fitProbe, PROBE_PROTOCOLS, probeAccuracy, useBackend } from "./mod.ts";
 * import assert from "node:assert";
 *
 * await useBackend("wasm");
 * const x = new Float32Array([-2, -1, -0.5, 0.5, 1, 2]);
 * const labels = new Uint8Array([0, 0, 0, 1, 1, 1]);
 * for (const protocol of ["standardized", "paper"] as const) {
 *   const fit = await fitProbe(x, labels, 1, { ...PROBE_PROTOCOLS[protocol], classes: 2 });
 *   assert.equal(await probeAccuracy(fit, x, labels), 1);
 * }
 * ```
 *
 * @module
 */

export { BACKEND_CHOICES, type BackendChoice, type BackendInfo, type BackendName, useBackend } from "./src/backend.ts";
export type { Scalar, Tensor, Tensor2D, Tensor3D, Tensor4D, Variable } from "./src/tf.ts";
export {
  CONFIG_FIELDS,
  ConfigError,
  type EvalConfig,
  type FieldKey,
  type FieldSpec,
  type FieldValue,
  iterationsPerEpoch,
  type Method,
  METHODS,
  PAPER_BETA,
  type PaperConfig,
  type PolicyEstimator,
  type Profile,
  PROFILE_NAMES,
  type ProfileDefaults,
  type ProfileName,
  PROFILES,
  type PStepExperiment,
  resolveConfig,
  type TrainConfig,
  type TrainOverrides,
} from "./src/config.ts";

// Data: shifted MNIST, the crop grid, crop distributions built from what is known of an image.
export { Prng, type PrngState } from "./src/data/prng.ts";
export type { Split } from "./src/data/mnist.ts";
export {
  cellSquare,
  type Dataset,
  DATASET_NAMES,
  type DatasetHashes,
  datasetHashes,
  type DatasetName,
  extractCrops,
  loadDataset,
  renderImages,
  takeFirst,
} from "./src/data/dataset.ts";
export {
  CROP_SIDE,
  CROP_STRIDE,
  type CropGrid,
  cropGrid,
  cropOrigin,
  emptyCrops,
  type Square,
  wholeDigitCrops,
} from "./src/data/crops.ts";
export {
  FIXED_DISTRIBUTIONS,
  type FixedDistribution,
  fixedDistribution,
  wholeDigitWeights,
} from "./src/data/crop_distributions.ts";
export { type CropStats, cropStats } from "./src/data/crop_stats.ts";

// Networks: f, g and P(T|X), and their parameters.
export {
  disposeParams,
  type Init,
  initialValues,
  makeParams,
  type Params,
  type ParamSpec,
  readParams,
} from "./src/model/params.ts";
export { allCropEmbeddings, allCropFeatures, embed, encoderSpecs, F_DIM } from "./src/model/encoder.ts";
export { type PolicyActivations, policyLogits, policyProbs, policySpecs } from "./src/model/policy.ts";
export { type PolicyForward, policyForward } from "./src/model/policy_backward.ts";

// The two steps of an iteration beside their objectives: the h-step's Jensen bound, the P-step's
// three estimators of objective (2), and (2) itself.
export { hStep, jensenLoss, type StepGrads } from "./src/objective/hstep.ts";
export {
  type Batch,
  exactNumeratorPolicyLoss,
  exactOwnPolicyLoss,
  type PolicyLoss,
  type PolicyLossOptions,
  type PolicyStepConfig,
  type PolicyStepGrads,
  pStep,
  sampledPolicyLoss,
} from "./src/objective/pstep.ts";
export { type ExactObjective, exactObjective } from "./src/objective/exact_objective.ts";

// Training.
export { Adam, type AdamOptions, type AdamState } from "./src/train/adam.ts";
export { type Checkpoint, type EpochStart, loadCheckpoint } from "./src/train/checkpoint.ts";
export {
  defaultSnapshotSteps,
  listSnapshots,
  loadSnapshot,
  type RunSnapshot,
  snapshotPath,
} from "./src/train/run_snapshot.ts";
export { createSession, type Session, type SessionOptions, type SessionStep } from "./src/train/session.ts";
export {
  DivergenceError,
  type PolicySnapshot,
  type StepRecord,
  train,
  TrainingStopped,
  type TrainOptions,
  type TrainSummary,
} from "./src/train/trainer.ts";

// Evaluation.
export { type Level, type Model, type Representations, representations, type Weighting } from "./src/eval/features.ts";
export {
  fitProbe,
  PROBE_PROTOCOLS,
  probeAccuracy,
  type ProbeFit,
  type ProbeOptions,
  type ProbeProtocol,
  type ProbeStop,
} from "./src/eval/probe.ts";
export { randomPairs, uniformityPotential } from "./src/eval/metrics.ts";
export {
  type DrawFigures,
  type EvalResult,
  type EvaluateOptions,
  evaluateRaw,
  evaluateRun,
  type FigureInput,
  type ProbeResult,
  type RawResult,
  snapshotEvalPath,
} from "./src/eval/evaluate.ts";
export {
  type BestRange,
  type Crossing,
  type CurveEntry,
  type LambdaRange,
  type LandscapeCurve,
  landscapeCurve,
  type LandscapeEntry,
  landscapeOfRun,
  type LandscapeOptions,
  landscapePath,
  type LandscapeResult,
  type LandscapeRow,
  snapshotLandscapeCurves,
} from "./src/eval/landscape.ts";
export { runFigures } from "./src/report/run_figures.ts";
