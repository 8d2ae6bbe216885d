/**
 * One unit of a study's work as the study runner hands it to a child process: its resolved
 * config or the folder it reads, never a command line to parse again. The child is
 * src/jobs/child.ts, which runs it as `deno task train`, `evaluate` and `landscape` run theirs.
 *
 * @module
 */

import type { ProfileName, TrainConfig } from "../config.ts";
import type { DatasetName } from "../data/dataset.ts";

/** Train a run into `dir` (continuing its checkpoint with `resume`). */
export interface TrainJob {
  readonly kind: "train";
  readonly config: TrainConfig;
  readonly dir: string;
  readonly resume: boolean;
  readonly mnistDir?: string;
}

/** Evaluate the trained run in `run`, saving its features where `saveFeaturesDir` says. */
export interface EvaluateJob {
  readonly kind: "evaluate";
  readonly run: string;
  readonly saveFeaturesDir?: string;
  readonly mnistDir?: string;
}

/** The landscape of objective (2) of the run in `run` (and its curve, where it kept snapshots). */
export interface LandscapeJob {
  readonly kind: "landscape";
  readonly run: string;
  readonly images?: number;
  readonly batch?: number;
  readonly mnistDir?: string;
}

/** The raw-pixel baseline on `data` at `profile`'s probe sizes, written to `out`. */
export interface RawJob {
  readonly kind: "raw";
  readonly data: DatasetName;
  readonly profile: ProfileName;
  readonly out: string;
  readonly mnistDir?: string;
}

/** One unit of a study's work. */
export type Job = TrainJob | EvaluateJob | LandscapeJob | RawJob;

/** The child process's entry point, which reads one {@linkcode Job} as JSON on its standard input. */
export const JOB_ENTRY: URL = new URL("../jobs/child.ts", import.meta.url);

/** A job in one line, for the run's log: its kind and what it works on. */
export function jobLine(job: Job): string {
  switch (job.kind) {
    case "train": {
      const c = job.config;
      return `train ${c.profile} ${c.data} ${c.method} seed ${c.seed} into ${job.dir}${
        job.resume ? " (resume)" : ""
      }: ` +
        JSON.stringify(c);
    }
    case "evaluate":
    case "landscape":
      return `${job.kind} ${job.run}`;
    case "raw":
      return `raw-pixel baseline of ${job.data} at ${job.profile} into ${job.out}`;
  }
}
