/**
 * Collecting a study's results: each run's evaluation as named metrics, and per cell (dataset ×
 * method × metric) the values over seeds with their mean and standard deviation.
 *
 * Cell keys: `<data>/<method>/<level>/<weighting>` for probe accuracies (e.g.
 * `shifted/crltac/head/integrated`) with this package's probe, the same followed by `/paper` with
 * the paper's (`shifted/crltac/head/integrated/paper`), `<data>/<method>/concentration`,
 * `<data>/<method>/uniformity`, and `<data>/raw` (`<data>/raw/paper`) for the raw-pixel baseline.
 *
 * @module
 */

import { UserError } from "../cli.ts";
import type { EvalResult, RawResult } from "../eval/evaluate.ts";
import type { LandscapeResult } from "../eval/landscape.ts";
import { meanStd } from "../eval/metrics.ts";
import type { TrainSummary } from "../train/trainer.ts";
import { arrayOf, checkShape, fields, nullable, recordOf, type Shape } from "../shape.ts";
import type { RunSpec } from "./plan.ts";

/** A run of the study and what it has produced so far. */
export interface RunRecord {
  readonly name: string;
  readonly spec: RunSpec;
  readonly summary: TrainSummary | null;
  readonly eval: EvalResult | null;
  /** The landscape of objective (2) around the run (`landscape.json`). */
  readonly landscape: LandscapeResult | null;
}

/** One cell: the value of every seed, their mean and standard deviation. */
export interface CellStats {
  readonly mean: number;
  /** Population standard deviation over seeds (numpy's default, ddof = 0); 0 for one seed. */
  readonly std: number;
  readonly n: number;
  /** Value by seed. */
  readonly values: Readonly<Record<string, number>>;
}

/**
 * The metrics of one evaluated run, keyed without the `<data>/<method>/` prefix. On original
 * MNIST every crop lies inside the digit's cell, so the oracle weighting equals uniform P and the
 * crop concentration is 1 by construction: neither is reported there.
 */
export function runMetrics(e: EvalResult): Record<string, number> {
  const metrics: Record<string, number> = {};
  const shifted = e.data === "shifted";
  for (const [key, probe] of Object.entries(e.probes)) {
    if (shifted || key.split("/")[1] !== "oracle") metrics[key] = probe.accuracy;
  }
  if (shifted) metrics.concentration = e.crops.concentration;
  metrics.uniformity = e.uniformity.potential;
  return metrics;
}

/** Mean and population standard deviation of `values` by seed. */
export function cellStats(values: Record<string, number>): CellStats {
  const xs = Object.values(values);
  return { ...meanStd(xs), n: xs.length, values };
}

/**
 * Every cell of the evaluated runs, plus the raw baselines (one value each: the raw probe has
 * no seed).
 */
export function aggregate(runs: readonly RunRecord[], raws: readonly RawResult[]): Record<string, CellStats> {
  const byKey: Record<string, Record<string, number>> = {};
  for (const run of runs) {
    if (!run.eval) continue;
    for (const [metric, value] of Object.entries(runMetrics(run.eval))) {
      (byKey[`${run.spec.data}/${run.spec.method}/${metric}`] ??= {})[String(run.spec.seed)] = value;
    }
  }
  for (const raw of raws) {
    byKey[`${raw.data}/raw`] = { raw: raw.probe.accuracy };
    if (raw.paperProbe) byKey[`${raw.data}/raw/paper`] = { raw: raw.paperProbe.accuracy };
  }
  return Object.fromEntries(Object.entries(byKey).map(([k, v]) => [k, cellStats(v)]));
}

/**
 * Parses a JSON file and checks it has `shape`; null when it does not exist.
 *
 * @throws {UserError} Naming the file when it is not JSON, or the field that breaks `shape`.
 */
export async function readJson<T>(path: string | URL, shape?: Shape): Promise<T | null> {
  const name = path instanceof URL ? path.pathname : path;
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e instanceof SyntaxError ? new UserError(`Cannot read ${name}: ${e.message}`) : e;
  }
  return shape ? checkShape<T>(value, shape, name) : value as T;
}

const PROBE = fields({ accuracy: "number" });

/** What the study and its report read of a run's summary.json. */
export const SUMMARY_SHAPE = fields({
  config: fields({ profile: "string", data: "string", method: "string", seed: "number", epochs: "number" }),
  backend: fields({ backend: "string" }),
  epochs: "number",
  steps: "number",
  trainMs: "number",
  final: recordOf(nullable("number")),
  weightsSha256: "string",
});

/** What the study and its report read of a run's eval.json. */
export const EVAL_SHAPE = fields({
  data: "string",
  weightsSha256: "string",
  probeTrainSize: "number",
  probeTestSize: "number",
  probes: recordOf(PROBE, true),
  crops: fields({ concentration: "number" }),
  uniformity: fields({ potential: "number" }),
  innerProducts: arrayOf("number"),
  figures: arrayOf("string"),
  ms: "number",
});

/** What the study reads of a run's landscape.json. */
export const LANDSCAPE_SHAPE = fields({ weightsSha256: "string", images: "number", rows: arrayOf(fields({})) });

/** What the study reads of a raw baseline. */
export const RAW_SHAPE = fields(
  { data: "string", probe: PROBE, paperProbe: PROBE, probeTrainSize: "number", probeTestSize: "number" },
  ["paperProbe"],
);

/** Reads a run folder's summary and evaluation (null where not written yet). */
export async function readRun(dir: string, name: string, spec: RunSpec): Promise<RunRecord> {
  return {
    name,
    spec,
    summary: await readJson<TrainSummary>(`${dir}/summary.json`, SUMMARY_SHAPE),
    eval: await readJson<EvalResult>(`${dir}/eval.json`, EVAL_SHAPE),
    landscape: await readJson<LandscapeResult>(`${dir}/landscape.json`, LANDSCAPE_SHAPE),
  };
}

/** Reads a raw baseline written by the study (null if absent). */
export function readRaw(path: string): Promise<RawResult | null> {
  return readJson<RawResult>(path, RAW_SHAPE);
}
