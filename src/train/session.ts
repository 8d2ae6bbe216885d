/**
 * A training run in memory, one iteration at a time: the networks, their Adam states, the
 * generator, each epoch's shuffled batches, and the iteration itself. Each iteration draws m crops
 * per image from the crop policy's P(T|X), takes an Adam step on the encoder's Jensen bound
 * (h-step), then lets the policy update P(T|X) (P-step; nothing where P is fixed).
 *
 * It touches no file and no Deno API: {@linkcode train} drives it with its run folder,
 * checkpoints and progress bar, and `deno task demo`'s page drives it in a Web Worker, so both
 * run the same iterations. Restored from a checkpoint, it replays exactly what an uninterrupted
 * session computes.
 *
 * One GPU sync per iteration (each costs ~14 ms on an H200): its losses are read back together
 * with P(t|x) of the next batch, which the next iteration samples its crops from. Only the first
 * batch of an epoch has its P(t|x) read on its own.
 *
 * @module
 */

import { iterationsPerEpoch, type PolicyEstimator, type TrainConfig } from "../config.ts";
import { type Dataset, datasetCropGrid, renderImages } from "../data/dataset.ts";
import { Prng, type PrngState } from "../data/prng.ts";
import { cropStats } from "../data/crop_stats.ts";
import { encoderSpecs } from "../model/encoder.ts";
import { disposeParams, initialValues, makeParams, type Params, readParams } from "../model/params.ts";
import { policyLogits, policyProbs, policySpecs } from "../model/policy.ts";
import type { PolicyForward } from "../model/policy_backward.ts";
import { hStep } from "../objective/hstep.ts";
import type { Batch } from "../objective/pstep.ts";
import { type Tensor4D, tf } from "../tf.ts";
import { Adam } from "./adam.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { type CropPolicy, learnedPolicy, oraclePolicy, uniformPolicy } from "./crop_policy.ts";

/** One line of `log.jsonl`: an iteration's losses and P(T|X) statistics on its batch. */
export interface StepRecord {
  /** The iteration, counted from 1. */
  readonly step: number;
  /** The epoch it belongs to, counted from 1. */
  readonly epoch: number;
  /** The h-step's loss: the Jensen bound on the batch's crops. */
  readonly hLoss: number;
  /** P-step loss −I − λH; null for SimCLR. */
  readonly pLoss: number | null;
  /** P-step objective I; null for SimCLR. */
  readonly pObjective: number | null;
  /** H(T|x) of the P(T|X) the batch's crops were drawn from, mean over its images, in nats. */
  readonly entropy: number;
  /** That P's mass on crops holding a digit pixel (the crop concentration), mean over images. */
  readonly concentration: number;
  /** Its mass on the 9 whole-digit crops, mean over images. */
  readonly wholeDigitMass: number;
  /** Its mass on crops with at least half their area inside the digit's cell, mean over images. */
  readonly halfCellMass: number;
  /** The expected fraction of a drawn crop's area inside the digit's cell. */
  readonly cellOverlap: number;
  /** Its largest crop probability, mean over images. */
  readonly maxProb: number;
  /** Wall time of the iteration in milliseconds. */
  readonly ms: number;
}

/**
 * One line of `policy-snapshots.jsonl`: P(t|x) of the first few test images after an iteration,
 * so that a figure can show where P moved during training.
 */
export interface PolicySnapshot {
  /** The iteration after which P was read, counted from 1. */
  readonly step: number;
  /** Test-split indices of the images. */
  readonly images: readonly number[];
  /** P(t|x), `images.length × |T|` row-major, to 5 decimals. */
  readonly probs: readonly number[];
}

/** Test images whose P(t|x) is recorded: the first six, in a run's figures and on the demo page. */
export const SNAPSHOT_IMAGES = 6;

/** Training stopped because a loss was not finite. */
export class DivergenceError extends Error {
  /**
   * The error, named `DivergenceError` in its stack and logs.
   *
   * @param message Which loss was not finite, and where.
   */
  constructor(message: string) {
    super(message);
    this.name = "DivergenceError";
  }
}

/** Options of {@linkcode createSession}. */
export interface SessionOptions {
  /** Continue from this checkpoint, saved by a session of the same config. */
  readonly saved?: Checkpoint | null;
  /**
   * Images whose P(t|x) is read back, with the iteration's losses, after the iterations `at`
   * picks (by their 1-based step); ignored where P(T|X) is not learned.
   */
  readonly snapshots?: { readonly images: Dataset; readonly at: (step: number) => boolean } | null;
}

/** What one iteration gives. */
export interface SessionStep {
  /** Its losses and P(T|X) statistics, the line it adds to `log.jsonl`. */
  readonly record: StepRecord;
  /** P(t|x) of the snapshot images after it, when asked for. */
  readonly snapshot: PolicySnapshot | null;
}

/** A training run in memory; see the module documentation. */
export interface Session {
  /** The run's resolved config. */
  readonly config: TrainConfig;
  /** Iterations completed. */
  readonly step: number;
  /** Epochs completed. */
  readonly epoch: number;
  /** Time spent in {@linkcode Session.iterate}, across resumes, in milliseconds. */
  readonly elapsedMs: number;
  /** Whether every epoch of the config has been trained. */
  readonly done: boolean;
  /**
   * Runs the next iteration (an epoch's first shuffles the training set). After an error the
   * session can only be disposed.
   *
   * @throws {DivergenceError} When a loss is NaN or infinite.
   */
  iterate(): Promise<SessionStep>;
  /** Everything needed to continue the session later, read back from the backend. */
  checkpoint(): Promise<Checkpoint>;
  /** P(t|x) of every image of `images` now, `count × |T|` row-major; null where P(T|X) is not learned. */
  policyProbsOf(images: Dataset): Promise<Float32Array | null>;
  /** Frees every tensor of the session. */
  dispose(): void;
}

/** The networks, optimisers and generator of a run in progress. */
interface State {
  encoder: Params;
  encoderAdam: Adam;
  policy: CropPolicy;
  /** The same P(T|X) and optimiser with the sampled estimator, for `policySampledSteps`. */
  sampledPolicy: CropPolicy | null;
  policyParams: Params | null;
  policyAdam: Adam | null;
  rng: Prng;
  /** The generator's state when the epoch under way began. */
  epochRng: PrngState | null;
  epoch: number;
  step: number;
  elapsedMs: number;
  /** The snapshot images and the steps to record them at; null where P is not learned or none were asked for. */
  snapshots: { readonly images: Tensor4D; readonly indices: number[]; readonly at: (step: number) => boolean } | null;
}

function createState(config: TrainConfig, ds: Dataset, options: SessionOptions): State {
  const saved = options.saved ?? null;
  const cropCount = datasetCropGrid(ds).count;
  const init = Prng.fromSeed(config.seed, "init");
  const eSpecs = encoderSpecs(config.headDim);
  const encoder = makeParams(eSpecs, saved?.encoder ?? initialValues(eSpecs, init));
  const encoderAdam = new Adam(encoder, { lr: config.lr });
  if (saved) encoderAdam.restore(saved.encoderAdam);
  let policy = uniformPolicy, sampledPolicy: CropPolicy | null = null;
  let policyParams: Params | null = null, policyAdam: Adam | null = null;
  if (config.method === "crltac") {
    const pSpecs = policySpecs(ds.side, cropCount);
    policyParams = makeParams(pSpecs, saved?.policy ?? initialValues(pSpecs, init));
    policyAdam = new Adam(policyParams, { lr: config.policyLr });
    if (saved?.policyAdam) policyAdam.restore(saved.policyAdam);
    policy = learnedPolicy(policyParams, policyAdam, config, cropCount);
    sampledPolicy = learnedPolicy(policyParams, policyAdam, { ...config, policyEstimator: "sampled" }, cropCount);
  }
  const snapshots = policyParams && options.snapshots ? snapshotState(options.snapshots) : null;
  return {
    encoder,
    encoderAdam,
    policy,
    sampledPolicy,
    policyParams,
    policyAdam,
    rng: saved ? Prng.fromState(saved.rng) : Prng.fromSeed(config.seed, "train"),
    epochRng: saved?.epochStart?.rng ?? null,
    epoch: saved?.epoch ?? 0,
    step: saved?.step ?? 0,
    elapsedMs: saved?.elapsedMs ?? 0,
    snapshots,
  };
}

function snapshotState(asked: NonNullable<SessionOptions["snapshots"]>): NonNullable<State["snapshots"]> {
  const set = asked.images;
  const indices = Array.from({ length: set.count }, (_, i) => i);
  const images = tf.tensor4d(renderImages(set, indices), [set.count, set.side, set.side, 1]);
  return { images, indices, at: asked.at };
}

async function checkpointOf(config: TrainConfig, s: State, epochIterations: number): Promise<Checkpoint> {
  return {
    config,
    epoch: s.epoch,
    step: s.step,
    rng: s.rng.state(),
    elapsedMs: s.elapsedMs,
    encoder: await readParams(s.encoder),
    encoderAdam: await s.encoderAdam.state(),
    policy: s.policyParams ? await readParams(s.policyParams) : null,
    policyAdam: s.policyAdam ? await s.policyAdam.state() : null,
    ...(epochIterations > 0 ? { epochStart: { rng: s.epochRng!, iterations: epochIterations } } : {}),
  };
}

/** P(t|x) of `ds`'s images, a training batch of them at a time. */
async function policyProbsOf(config: TrainConfig, s: State, ds: Dataset): Promise<Float32Array | null> {
  if (!s.policyParams) return null;
  const t = datasetCropGrid(ds).count;
  const out = new Float32Array(ds.count * t);
  for (let first = 0; first < ds.count; first += config.batch) {
    const indices = Array.from({ length: Math.min(config.batch, ds.count - first) }, (_, i) => first + i);
    const probs = tf.tidy(() =>
      policyProbs(
        policyLogits(s.policyParams!, tf.tensor4d(renderImages(ds, indices), [indices.length, ds.side, ds.side, 1])),
      )
    );
    try {
      out.set(await probs.data(), first * t);
    } finally {
      probs.dispose();
    }
  }
  return out;
}

/** A batch that also holds P(T|X)'s forward pass on it until its P-step. */
interface TrainBatch extends Batch {
  forward: PolicyForward | null;
  /** Frees the images and the forward pass (again a no-op). */
  dispose(): void;
}

/**
 * Which crop policy iteration `step` (0-based) uses: uniform crops and no P-step during the
 * warm-up, then P-steps with the sampled estimator for the first `policySampledSteps`
 * iterations, then the run's estimator. SimCLR's is uniform throughout, the oracle's fixed on
 * the whole-digit crops.
 */
export function policyPhase(config: TrainConfig, step: number): "uniform" | "oracle" | PolicyEstimator {
  if (config.method === "oracle") return "oracle";
  if (config.method === "simclr" || step < config.warmup) return "uniform";
  return step < config.policySampledSteps ? "sampled" : config.policyEstimator;
}

/** Whether iteration `step` (0-based) ends with a P-step: every `policyEvery`-th learned one. */
export function takesPolicyStep(config: TrainConfig, step: number): boolean {
  const phase = policyPhase(config, step);
  return phase !== "uniform" && phase !== "oracle" && (step + 1) % config.policyEvery === 0;
}

function policyAt(config: TrainConfig, s: State, step: number): CropPolicy {
  const phase = policyPhase(config, step);
  if (phase === "uniform") return uniformPolicy;
  if (phase === "oracle") return oraclePolicy;
  return phase === config.policyEstimator ? s.policy : s.sampledPolicy!;
}

/** P(t|x) of a batch on the host, its forward pass kept for the P-step: a read-back of its own for a learned P. */
async function hostProbabilities(policy: CropPolicy, batch: TrainBatch): Promise<Float32Array> {
  batch.forward = policy.forward(batch);
  if (!batch.forward) return policy.fixed!(batch);
  const probs = policyProbs(batch.forward.logits);
  try {
    return new Float32Array(await probs.data()); // GPU sync: P(t|x) is needed for sampling
  } finally {
    probs.dispose();
  }
}

/**
 * One iteration: h-step on crops drawn from `probs` (P(t|x) of `batch`), then P-step. Returns the
 * batch's record (without timing) and P(t|x) of `next`, read back with the losses.
 */
async function iteration(
  config: TrainConfig,
  s: State,
  batch: TrainBatch,
  probs: Float32Array,
  next: TrainBatch | null,
): Promise<{ record: Omit<StepRecord, "ms">; nextProbs: Float32Array | null; snapshot: PolicySnapshot | null }> {
  const { ds, indices } = batch;
  const cropCount = datasetCropGrid(ds).count;
  const m = config.crops;
  const owners = new Int32Array(indices.length * m);
  const crops = new Int32Array(indices.length * m);
  indices.forEach((img, n) => {
    for (let j = 0; j < m; j++) {
      owners[n * m + j] = img;
      crops[n * m + j] = s.rng.nextCategorical(probs, n * cropCount, cropCount);
    }
  });
  const h = hStep(s.encoder, ds, owners, crops, m, config.beta);
  s.encoderAdam.apply(h.grads);
  tf.dispose(Object.values(h.grads));
  const p = takesPolicyStep(config, s.step)
    ? policyAt(config, s, s.step).update(batch, batch.forward, s.encoder, s.rng)
    : null;
  // Freed before the next batch's forward pass: only one batch's activations at a time.
  batch.forward?.dispose();
  batch.forward = null;
  const scalars = p ? [h.loss, p.loss, p.objective, p.entropy] : [h.loss];
  const nextPolicy = next ? policyAt(config, s, s.step + 1) : null;
  if (next) next.forward = nextPolicy!.forward(next);
  const upcoming = next?.forward?.logits ?? null;
  const snap = s.snapshots?.at(s.step + 1) ? s.snapshots : null;
  const packed = tf.tidy(() =>
    tf.concat([
      tf.stack(scalars),
      ...(upcoming ? [tf.reshape(policyProbs(upcoming), [-1])] : []),
      ...(snap ? [tf.reshape(policyProbs(policyLogits(s.policyParams!, snap.images)), [-1])] : []),
    ])
  );
  // The iteration's GPU sync: its losses, the next P(t|x) and any snapshot.
  const values = await packed.data();
  tf.dispose([packed, ...scalars]);
  const nextCount = upcoming ? upcoming.size : 0;
  const stats = cropStats(ds, indices, probs);
  return {
    record: {
      step: s.step + 1,
      epoch: s.epoch + 1,
      hLoss: values[0]!,
      pLoss: p ? values[1]! : null,
      pObjective: p ? values[2]! : null,
      ...stats,
    },
    nextProbs: !next
      ? null
      : upcoming
      ? new Float32Array(values.subarray(scalars.length, scalars.length + nextCount))
      : nextPolicy!.fixed!(next),
    snapshot: snap
      ? {
        step: s.step + 1,
        images: snap.indices,
        probs: Array.from(values.subarray(scalars.length + nextCount), (p) => Math.round(p * 1e5) / 1e5),
      }
      : null,
  };
}

/** A batch whose images are rendered on first use. */
function makeBatch(ds: Dataset, indices: number[]): TrainBatch {
  let images: Tensor4D | null = null;
  return {
    ds,
    indices,
    forward: null,
    // Kept: the first use may come inside a tf.tidy, which must not dispose the batch.
    images: () => images ??= tf.keep(tf.tensor4d(renderImages(ds, indices), [indices.length, ds.side, ds.side, 1])),
    dispose() {
      images?.dispose();
      images = null;
      this.forward?.dispose();
      this.forward = null;
    },
  };
}

/**
 * Where an epoch stands: its order, the next iteration, that iteration's batch with P(t|x) (null
 * until read) and the batch after it, prepared by the iteration before.
 */
interface EpochCursor {
  readonly order: number[];
  it: number;
  batch: TrainBatch;
  probs: Float32Array | null;
  next: TrainBatch | null;
}

/**
 * A session of `config` on the training images `ds` (already cut to `config.trainSize`), from
 * the seed or from `options.saved`. Choose the tfjs backend first. One session at a time in a
 * process: its variables are named (as checkpoints lay them out), and tfjs refuses a second
 * variable of a name in use until the first is disposed.
 *
 * @example
 * ```ts
 * import { createSession } from "./session.ts";
 * import { resolveConfig } from "../config.ts";
 * import { loadDataset, takeFirst } from "../data/dataset.ts";
 * import assert from "node:assert";
 *
 * const config = resolveConfig("smoke", "shifted", "simclr", 0, { trainSize: 4, batch: 2, crops: 2, epochs: 1 });
 * const session = createSession(config, takeFirst(await loadDataset("shifted", "train"), 4));
 * try {
 *   const { record } = await session.iterate();
 *   assert.equal(record.step, 1);
 *   assert.ok(Number.isFinite(record.hLoss));
 * } finally {
 *   session.dispose();
 * }
 * ```
 */
export function createSession(config: TrainConfig, ds: Dataset, options: SessionOptions = {}): Session {
  const s = createState(config, ds, options);
  const perEpoch = iterationsPerEpoch(config);
  let cursor: EpochCursor | null = null;
  let resumedIterations = options.saved?.epochStart?.iterations ?? 0;
  let failed = false;
  const batchAt = (order: number[], it: number) =>
    makeBatch(ds, order.slice(it * config.batch, (it + 1) * config.batch));
  // Each iteration also prepares the next batch: whatever stops the epoch, both are freed.
  const endEpoch = () => {
    cursor?.batch.dispose();
    cursor?.next?.dispose();
    cursor = null;
  };

  async function iterate(): Promise<SessionStep> {
    if (failed) throw new Error("Cannot continue a session after an error: dispose it");
    if (s.epoch >= config.epochs) throw new Error(`Cannot go past the session's ${config.epochs} epochs`);
    const t0 = performance.now();
    try {
      if (!cursor) {
        const images = Array.from({ length: ds.count }, (_, i) => i);
        // Resumed part-way through an epoch: its order drawn again from the generator's state at
        // its start, the generator itself where the last iteration left it.
        const it = resumedIterations;
        if (it === 0) s.epochRng = s.rng.state();
        const order = (it === 0 ? s.rng : Prng.fromState(s.epochRng!)).shuffle(images);
        resumedIterations = 0;
        cursor = { order, it, batch: batchAt(order, it), probs: null, next: null };
      }
      const c = cursor;
      c.probs ??= await hostProbabilities(policyAt(config, s, s.step), c.batch);
      c.next = c.it + 1 < perEpoch ? batchAt(c.order, c.it + 1) : null;
      const result = await iteration(config, s, c.batch, c.probs, c.next);
      c.batch.dispose();
      const ms = performance.now() - t0;
      const record: StepRecord = { ...result.record, ms: Math.round(ms) };
      const bad = [record.hLoss, record.pLoss].find((v) => v !== null && !Number.isFinite(v));
      if (bad !== undefined) {
        throw new DivergenceError(
          `Loss became ${bad} at step ${record.step} (epoch ${record.epoch}, iteration ${c.it + 1})`,
        );
      }
      s.step = record.step;
      s.elapsedMs += ms;
      if (c.next) {
        [c.batch, c.probs, c.next] = [c.next, result.nextProbs!, null];
        c.it++;
      } else {
        cursor = null;
        s.epoch++;
      }
      return { record, snapshot: result.snapshot };
    } catch (e) {
      failed = true;
      endEpoch();
      throw e;
    }
  }

  return {
    config,
    get step() {
      return s.step;
    },
    get epoch() {
      return s.epoch;
    },
    get elapsedMs() {
      return s.elapsedMs;
    },
    get done() {
      return s.epoch >= config.epochs;
    },
    iterate,
    checkpoint: () => checkpointOf(config, s, cursor?.it ?? resumedIterations),
    policyProbsOf: (images) => policyProbsOf(config, s, images),
    dispose() {
      endEpoch();
      s.snapshots?.images.dispose();
      disposeParams(s.encoder);
      s.encoderAdam.dispose();
      if (s.policyParams) disposeParams(s.policyParams);
      s.policyAdam?.dispose();
    },
  };
}
