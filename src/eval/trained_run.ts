/**
 * A finished run's final checkpoint as evaluation needs it: its config and its networks, with
 * the kind of P(T|X) its method uses.
 *
 * @module
 */

import { type BackendInfo, useBackend } from "../backend.ts";
import { UserError } from "../cli.ts";
import { cropGrid } from "../data/crops.ts";
import { datasetSide } from "../data/dataset.ts";
import { encoderSpecs } from "../model/encoder.ts";
import { disposeParams, makeParams } from "../model/params.ts";
import { policySpecs } from "../model/policy.ts";
import { type Checkpoint, loadCheckpoint } from "../train/checkpoint.ts";
import { runFiles } from "../train/run_folder.ts";
import type { Model } from "./features.ts";

/** A trained run, loaded. */
export interface TrainedRun {
  readonly saved: Checkpoint;
  readonly model: Model;
  /** The backend the networks live on: the one the run's config asks for. */
  readonly backend: BackendInfo;
  /** Frees the networks' tensors. */
  dispose(): void;
}

/**
 * Loads the final checkpoint of the run in `dir` onto the backend its config asks for.
 *
 * @param action What the caller is about to do, for the error message ("evaluate").
 * @throws {UserError} If the run has no checkpoint or its training has not finished.
 */
export async function loadTrainedRun(dir: string, action: string): Promise<TrainedRun> {
  const saved = await loadCheckpoint(runFiles(dir).checkpoint);
  if (!saved) throw new UserError(`Cannot ${action} ${dir}: it has no checkpoint.bin (train it first)`);
  if (saved.epoch < saved.config.epochs) {
    throw new UserError(
      `Cannot ${action} ${dir}: its training stopped at epoch ${saved.epoch} of ${saved.config.epochs} (resume it first)`,
    );
  }
  const config = saved.config;
  const backend = await useBackend(config.backend);
  const side = datasetSide(config.data);
  const model: Model = {
    encoder: makeParams(encoderSpecs(config.headDim), saved.encoder),
    policy: saved.policy
      ? makeParams(policySpecs(side, cropGrid(side).count), saved.policy)
      : config.method === "oracle"
      ? "wholeDigit"
      : "uniform",
    headDim: config.headDim,
  };
  return {
    saved,
    model,
    backend,
    dispose() {
      disposeParams(model.encoder);
      if (typeof model.policy !== "string") disposeParams(model.policy);
    },
  };
}
