/**
 * What `deno task train`, `evaluate` and `landscape` do once their options are read, as
 * functions: the scripts call them with what they parsed, and a study's child processes
 * (./child.ts) with the job the runner resolved (src/study/job.ts), so both do the same work.
 *
 * @module
 */

import { UsageError } from "../cli.ts";
import { type ProfileName, PROFILES, type TrainConfig, validateConfig } from "../config.ts";
import type { DatasetName } from "../data/dataset.ts";
import { checkMnistFolder } from "../data/mnist.ts";
import { evalPath, evaluateRaw, evaluateRun, FEATURES_FOLDER } from "../eval/evaluate.ts";
import {
  curvePath,
  type LandscapeCurve,
  landscapeCurve,
  landscapeOfRun,
  landscapePath,
  readCurve,
  snapshotLandscapeCurves,
} from "../eval/landscape.ts";
import { loadRunSnapshot } from "../eval/trained_run.ts";
import { checkFolder, checkInputFolder, checkOutputFile, writeFileAtomic } from "../files.ts";
import { lockFolder } from "../lock.ts";
import { landscapeCurveFigure } from "../report/charts.ts";
import { curveMarkdown, landscapeMarkdown } from "../report/landscape_report.ts";
import { runFigures } from "../report/run_figures.ts";
import type { Job } from "../study/job.ts";
import { readRaw } from "../study/results.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { runCheckpoint, runFiles } from "../train/run_folder.ts";
import { listSnapshots, loadSnapshot, snapshotPath } from "../train/run_snapshot.ts";
import { train, TrainingStopped, type TrainOptions } from "../train/trainer.ts";

/**
 * Trains one run and prints its summary: the final losses as JSON on stdout.
 *
 * @returns The exit status: 0, or 130 when Ctrl-C stopped it with a checkpoint.
 */
export async function trainJob(config: TrainConfig, options: TrainOptions): Promise<number> {
  await checkMnistFolder(options.mnistDir);
  let summary;
  try {
    summary = await train(config, options);
  } catch (e) {
    if (!(e instanceof TrainingStopped)) throw e;
    console.error(e.message);
    return 130;
  }
  console.error(
    `trained in ${
      (summary.trainMs / 1000).toFixed(1)
    } s on ${summary.backend.backend}; weights sha256 ${summary.weightsSha256}`,
  );
  console.log(JSON.stringify(summary.final));
  return 0;
}

/** What evaluation evaluates, where it reads MNIST from and where it writes the features. */
export interface EvaluateJobOptions {
  /** The snapshot after this iteration instead of the final weights. */
  readonly at?: number | undefined;
  readonly saveFeaturesDir?: string | undefined;
  readonly mnistDir?: string | undefined;
}

/**
 * Evaluates the trained run in `run` (eval.json and figures/), or its snapshot `options.at`, and
 * prints its headline numbers as JSON.
 */
export async function evaluateRunJob(run: string, options: EvaluateJobOptions = {}): Promise<void> {
  await checkMnistFolder(options.mnistDir);
  if (options.at === undefined) await runCheckpoint(run);
  else await checkInputFolder(run, "run folder");
  if (options.saveFeaturesDir) await checkFolder(options.saveFeaturesDir, FEATURES_FOLDER);
  // Released on exit; a training of the same folder would change the weights under the
  // evaluation. A snapshot is written once and never changes: it can be evaluated while the run
  // trains.
  if (options.at === undefined) await lockFolder(run, "run folder");
  const result = await evaluateRun(run, {
    figures: runFigures,
    ...(options.at === undefined ? {} : { at: options.at }),
    ...(options.mnistDir ? { mnistDir: options.mnistDir } : {}),
    ...(options.saveFeaturesDir ? { saveFeaturesDir: options.saveFeaturesDir } : {}),
  });
  const probes = Object.fromEntries(Object.entries(result.probes).map(([k, v]) => [k, v.accuracy]));
  console.error(`evaluated in ${(result.ms / 1000).toFixed(1)} s; wrote ${evalPath(run, options.at)}`);
  console.log(
    JSON.stringify({ probes, concentration: result.crops.concentration, uniformity: result.uniformity.potential }),
  );
}

/** The raw-pixel baseline on `data` at `profile`'s probe sizes: written to `out`, or printed without it. */
export async function rawJob(
  data: DatasetName,
  profile: ProfileName,
  out: string | undefined,
  mnistDir?: string,
): Promise<void> {
  await checkMnistFolder(mnistDir);
  if (out) await checkOutputFile(out, "result file", (path) => readRaw(path).then(Boolean, () => false));
  const result = await evaluateRaw(data, PROFILES[profile].eval, mnistDir);
  const json = JSON.stringify(result, null, 2) + "\n";
  if (out) await writeFileAtomic(out, new TextEncoder().encode(json));
  else console.log(json.trimEnd());
}

/** What a landscape is computed on. */
export interface LandscapeJobOptions {
  /** Training images (the first n). @default the run profile's */
  readonly images?: number | undefined;
  /** Images per batch. @default the run's batch */
  readonly batch?: number | undefined;
  readonly mnistDir?: string | undefined;
  /** The landscape of the run's snapshot after this iteration alone, not the final weights' and the curve. */
  readonly at?: number | undefined;
}

/** The landscape's options for a run of `config`: the profile's images unless asked otherwise. */
function landscapeOptions(config: TrainConfig, o: LandscapeJobOptions) {
  const images = o.images ?? PROFILES[config.profile].eval.landscapeImages;
  if (images > config.trainSize) {
    throw new UsageError(`--images ${images}: the run trained on ${config.trainSize} images`);
  }
  return { images, ...(o.batch ? { batch: o.batch } : {}), ...(o.mnistDir ? { mnistDir: o.mnistDir } : {}) };
}

/**
 * The landscape of objective (2) of the run in `run` once it has finished (landscape.json, the
 * table printed), and its curve over the snapshots it kept so far (landscape-curve.json, .svg);
 * with `at`, the landscape of that snapshot alone (beside it).
 *
 * @throws {UsageError} When the folder holds neither a finished run nor snapshots.
 */
export async function landscapeJob(run: string, o: LandscapeJobOptions = {}): Promise<void> {
  await checkMnistFolder(o.mnistDir);
  await checkInputFolder(run, "run folder");
  if (o.at !== undefined) {
    // Snapshots are written once and never change: no lock, and the run may be training.
    const { config } = await loadRunSnapshot(run, "compute the landscape of", o.at);
    const result = await landscapeOfRun(run, { ...landscapeOptions(config, o), at: o.at });
    console.log(landscapeMarkdown(result));
    // The curve's figure shows the snapshots measured alone: drawn again with this one.
    const curve = await readCurve(run);
    const drawn = curve ? ` and drew ${await drawCurve(run, curve)} again` : "";
    console.error(`computed in ${(result.ms / 1000).toFixed(1)} s; wrote ${landscapePath(run, o.at)}${drawn}`);
    return;
  }
  // A run still in its first epoch has snapshots and no checkpoint yet: its curve can be drawn.
  const saved = await loadCheckpoint(runFiles(run).checkpoint);
  const first = (await listSnapshots(run))[0];
  const config = saved?.config ?? (first ? (await loadSnapshot(snapshotPath(run, first))).config : null);
  if (!config) {
    throw new UsageError(`Cannot read the run folder ${run}: it holds no checkpoint.bin (train the run first)`);
  }
  const options = landscapeOptions(config, o);
  const finished = saved !== null && saved.epoch >= saved.config.epochs;
  // Released on exit; a training of the same folder would change the weights under the landscape.
  if (finished) await lockFolder(run, "run folder");
  // Snapshots are written once and never change: the curve needs no lock, and can follow a run
  // while it trains. It goes first: where it would lose entries it refuses before any work.
  const curve = await landscapeCurve(run, options);
  if (finished) {
    const result = await landscapeOfRun(run, options);
    console.log(landscapeMarkdown(result));
    console.error(`computed in ${(result.ms / 1000).toFixed(1)} s; wrote ${landscapePath(run)}`);
  }
  if (curve) {
    const svg = await drawCurve(run, curve);
    console.log(curveMarkdown(curve));
    console.error(`wrote ${curvePath(run)} and ${svg}`);
  } else if (!finished) {
    throw new UsageError(
      `--run ${run}: its training stopped at epoch ${
        saved!.epoch
      } of ${config.epochs} and it has no snapshots (resume it first)`,
    );
  }
}

/**
 * Draws the curve of the run in `run`, with its snapshots measured alone on other images, to
 * `landscape-curve.svg` there.
 *
 * @returns The figure's path.
 */
async function drawCurve(run: string, curve: LandscapeCurve): Promise<string> {
  const svg = `${run}/landscape-curve.svg`;
  const more = await snapshotLandscapeCurves(run);
  await writeFileAtomic(svg, new TextEncoder().encode(await landscapeCurveFigure(curve, more)));
  return svg;
}

/**
 * Runs a study's job.
 *
 * @returns The exit status.
 */
export async function runJob(job: Job): Promise<number> {
  switch (job.kind) {
    case "train":
      validateConfig(job.config);
      return await trainJob(job.config, {
        dir: job.dir,
        resume: job.resume,
        ...(job.mnistDir ? { mnistDir: job.mnistDir } : {}),
      });
    case "evaluate":
      await evaluateRunJob(job.run, job);
      return 0;
    case "landscape":
      await landscapeJob(job.run, job);
      return 0;
    case "raw":
      await rawJob(job.data, job.profile, job.out, job.mnistDir);
      return 0;
  }
}
