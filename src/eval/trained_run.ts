/**
 * A trained run's weights as evaluation needs them: its config and its networks, with the kind
 * of P(T|X) its method uses — the final checkpoint's, or a run snapshot's (src/train/run_snapshot.ts)
 * where the run's P is fixed (the oracle ablation, SimCLR), so that a run can be evaluated partway.
 *
 * @module
 */

import { type BackendInfo, useBackend } from "../backend.ts";
import { UserError } from "../cli.ts";
import type { TrainConfig } from "../config.ts";
import { cropGrid } from "../data/crops.ts";
import { datasetSide } from "../data/dataset.ts";
import { encoderSpecs } from "../model/encoder.ts";
import { disposeParams, makeParams } from "../model/params.ts";
import { policySpecs } from "../model/policy.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { runFiles, weightsHash } from "../train/run_folder.ts";
import { listSnapshots, loadSnapshot, type RunSnapshot, snapshotPath } from "../train/run_snapshot.ts";
import type { Model } from "./features.ts";

/** A trained run, loaded. */
export interface TrainedRun {
  /** The run's resolved config. */
  readonly config: TrainConfig;
  /** sha256 of the weights, as in the run's `summary.json` (a snapshot: of its encoder). */
  readonly weightsSha256: string;
  readonly model: Model;
  /** The backend the networks live on: the one the run's config asks for. */
  readonly backend: BackendInfo;
  /** Frees the networks' tensors. */
  dispose(): void;
}

/** The networks of `config`'s run from saved weights, onto the backend its config asks for; `policy` null where P is fixed. */
async function trainedRun(
  config: TrainConfig,
  weights: { readonly encoder: Float32Array[]; readonly policy: Float32Array[] | null },
): Promise<TrainedRun> {
  const backend = await useBackend(config.backend);
  const side = datasetSide(config.data);
  const model: Model = {
    encoder: makeParams(encoderSpecs(config.headDim), weights.encoder),
    policy: weights.policy
      ? makeParams(policySpecs(side, cropGrid(side).count), weights.policy)
      : config.method === "oracle"
      ? "wholeDigit"
      : "uniform",
    headDim: config.headDim,
  };
  return {
    config,
    weightsSha256: weightsHash({ config, ...weights }, { side }),
    model,
    backend,
    dispose() {
      disposeParams(model.encoder);
      if (typeof model.policy !== "string") disposeParams(model.policy);
    },
  };
}

/**
 * Loads the final checkpoint of the run in `dir`, or with `at` its snapshot after that iteration,
 * onto the backend its config asks for.
 *
 * @param action What the caller is about to do, for the error message ("evaluate").
 * @throws {UserError} If the run has no checkpoint or its training has not finished; with `at`,
 *   if it has no snapshot there, or learns its P (a snapshot keeps P(t|x) of the landscape's
 *   images only, not P's network).
 */
export async function loadTrainedRun(dir: string, action: string, at?: number): Promise<TrainedRun> {
  if (at !== undefined) return await loadSnapshotRun(dir, action, at);
  const saved = await loadCheckpoint(runFiles(dir).checkpoint);
  if (!saved) throw new UserError(`Cannot ${action} ${dir}: it has no checkpoint.bin (train it first)`);
  if (saved.epoch < saved.config.epochs) {
    throw new UserError(
      `Cannot ${action} ${dir}: its training stopped at epoch ${saved.epoch} of ${saved.config.epochs} (resume it first)`,
    );
  }
  return await trainedRun(saved.config, saved);
}

/**
 * The snapshot after iteration `at` of the run in `dir`.
 *
 * @param action What the caller is about to do, for the error message ("evaluate").
 * @throws {UserError} If the run has no snapshot there, naming those it has.
 */
export async function loadRunSnapshot(dir: string, action: string, at: number): Promise<RunSnapshot> {
  const steps = await listSnapshots(dir);
  if (!steps.includes(at)) {
    const has = steps.length ? `its snapshots are after iterations ${steps.join(", ")}` : "it has no snapshots";
    throw new UserError(`Cannot ${action} ${dir} at iteration ${at}: ${has}`);
  }
  return await loadSnapshot(snapshotPath(dir, at));
}

async function loadSnapshotRun(dir: string, action: string, at: number): Promise<TrainedRun> {
  const snapshot = await loadRunSnapshot(dir, action, at);
  if (snapshot.config.method === "crltac") {
    throw new UserError(
      `Cannot ${action} ${dir} at iteration ${at}: a CRL-TAC snapshot keeps P(t|x) of the landscape's images, not P's network (only the finished run can be evaluated)`,
    );
  }
  return await trainedRun(snapshot.config, { encoder: snapshot.encoder, policy: null });
}
