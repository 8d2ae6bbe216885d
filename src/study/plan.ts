/**
 * The study: which runs a reproduction trains and evaluates, in which order, and how a filter or
 * a shard selects some of them.
 *
 * @module
 */

import { type Method, METHODS, type TrainOverrides } from "../config.ts";
import { DATASET_NAMES, type DatasetName } from "../data/dataset.ts";

/** A named change of a profile's hyper-parameters, for a sweep. */
export interface Variant {
  /** Folder-safe name: letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  readonly overrides: TrainOverrides;
  /** What it changes and why, for the sweep's table. */
  readonly description: string;
}

/** One run of the study. */
export interface RunSpec {
  readonly data: DatasetName;
  readonly method: Method;
  readonly seed: number;
  /** The sweep variant it trains; none in a reproduction study. */
  readonly variant?: Variant;
}

/** The run's folder under the study's output folder: `<data>-<method>-seed<N>`, under the variant's folder in a sweep. */
export function runName(r: RunSpec): string {
  const name = `${r.data}-${r.method}-seed${r.seed}`;
  return r.variant ? `${r.variant.name}/${name}` : name;
}

/** The run a folder name stands for, or null. */
export function parseRunName(name: string): RunSpec | null {
  const m = /^(shifted|original)-(crltac|simclr|oracle)-seed(\d+)$/.exec(name);
  return m ? { data: m[1] as DatasetName, method: m[2] as Method, seed: Number(m[3]) } : null;
}

/**
 * Every run: dataset × method × seed, shifted MNIST first (it is what the paper is about). The
 * oracle ablation runs on shifted MNIST only: on original MNIST all 9 crops lie inside the digit's
 * cell, so its P would be SimCLR's.
 */
export function studyRuns(seeds: readonly number[]): RunSpec[] {
  return DATASET_NAMES.flatMap((data) =>
    METHODS.filter((method) => method !== "oracle" || data === "shifted").flatMap((method) =>
      seeds.map((seed) => ({ data, method, seed }))
    )
  );
}

/**
 * Keeps the runs matching a filter `dataset/method/seed`, where any part may be `*` or left out
 * (`shifted`, `shifted/crltac`, `*\/simclr/0`).
 *
 * @throws {RangeError} If a part names no dataset, method or seed.
 */
export function filterRuns(runs: readonly RunSpec[], filter: string): RunSpec[] {
  const [data = "*", method = "*", seed = "*", ...rest] = filter.split("/");
  const any = (v: string) => v === "*" || v === "";
  if (rest.length > 0) throw new RangeError(`Cannot read filter "${filter}": expected dataset/method/seed`);
  if (!any(data) && !DATASET_NAMES.includes(data as DatasetName)) {
    throw new RangeError(`Cannot read filter "${filter}": no dataset "${data}" (${DATASET_NAMES.join(", ")})`);
  }
  if (!any(method) && !METHODS.includes(method as Method)) {
    throw new RangeError(`Cannot read filter "${filter}": no method "${method}" (${METHODS.join(", ")})`);
  }
  if (!any(seed) && !/^\d+$/.test(seed)) {
    throw new RangeError(`Cannot read filter "${filter}": seed "${seed}" is not a number`);
  }
  return runs.filter((r) =>
    (any(data) || r.data === data) && (any(method) || r.method === method) && (any(seed) || r.seed === Number(seed))
  );
}

/** A shard `i/n`: every n-th run starting at the i-th (1-based), for CI matrices and array jobs. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Reads `i/n`.
 *
 * @throws {RangeError} Unless 1 ≤ i ≤ n.
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]), count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new RangeError(`Cannot read shard "${text}": expected i/n with 1 ≤ i ≤ n`);
  }
  return { index, count };
}

/** The runs of shard `s`. */
export function shardRuns(runs: readonly RunSpec[], s: Shard): RunSpec[] {
  return runs.filter((_, k) => k % s.count === s.index - 1);
}
