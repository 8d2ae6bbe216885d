/**
 * The demo page's training worker, bundled for the browser: it checks the MNIST files the server
 * sends as `deno task train` checks them on disk, builds shifted MNIST with the package's own
 * functions, reads the form's settings as the command line reads its options, and drives a training session
 * (src/train/session.ts) one iteration at a time, posting each record and P(t|x) of the heat
 * maps' images to the page. In a worker, so that training never blocks the page.
 *
 * The wasm backend finds its binaries beside this script: the server serves them there.
 *
 * @module
 */

import { type BackendInfo, type BackendName, describeBackend, switchBackend } from "../../backend.ts";
import { choice, parseNamed, UsageError } from "../../cli.ts";
import {
  CONFIG_FIELDS,
  ConfigError,
  FIELD_KEYS,
  iterationsPerEpoch,
  METHODS,
  resolveConfig,
  type TrainConfig,
  type TrainOverrides,
} from "../../config.ts";
import {
  cellSquare,
  type Dataset,
  datasetCropGrid,
  makeDataset,
  renderImageBytes,
  takeFirst,
} from "../../data/dataset.ts";
import { wholeDigitCrops } from "../../data/crops.ts";
import { type MnistFile, mnistSplit, parseMnistFile, type Split, SPLIT_FILES } from "../../data/mnist.ts";
import { tf } from "../../tf.ts";
import { configErrorText, overrideArgs, overrideSpecs, readOverrides, seedParser } from "../../train/options.ts";
import { createSession, type Session, SNAPSHOT_IMAGES } from "../../train/session.ts";
import { type FormSettings, type HeatMapImages, type PageMessage, ROUTES, type WorkerMessage } from "../protocol.ts";

/** The profile whose settings the page trains with, and the dataset. */
const PROFILE = "smoke", DATA = "shifted";

/** The settings the page's form shows; the page's address may give any other option of `deno task train`. */
const FORM_FIELDS = ["method", "seed", "lambda", "beta", "trainSize", "batch", "epochs", "backend"] as const;

function post(message: WorkerMessage): void {
  self.postMessage(message);
}

/** One split of MNIST, fetched from the server and checked against the pinned sha256. */
async function fetchSplit(split: Split): Promise<Dataset> {
  const read = async (file: MnistFile) => {
    const url = new URL(ROUTES.mnist + file, self.location.href).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`Cannot fetch ${url}: ${response.status} ${response.statusText}`);
    return parseMnistFile(file, new Uint8Array(await response.arrayBuffer()), url);
  };
  const files = SPLIT_FILES[split];
  const [images, labels] = await Promise.all([read(files.images), read(files.labels)]);
  return makeDataset(DATA, split, mnistSplit(split, images, labels));
}

/** The defaults of the form's fields: the smoke profile's, with CRL-TAC and seed 0. */
function formDefaults(): FormSettings {
  const config = resolveConfig(PROFILE, DATA, "crltac", 0);
  return Object.fromEntries(
    FORM_FIELDS.map((key) => [key === "method" || key === "seed" ? key : CONFIG_FIELDS[key].flag, String(config[key])]),
  );
}

/**
 * The run the form asks for, each setting read and checked as `deno task train --profile smoke
 * --data shifted` reads that option, so that a bad value gets the command line's message.
 *
 * @throws {UsageError} Naming the bad value and what is allowed.
 */
function configOf(settings: FormSettings): TrainConfig {
  const o = parseNamed(settings, {
    method: { type: "string", parse: choice(METHODS), required: true },
    seed: { type: "string", parse: seedParser(), required: true },
    ...overrideSpecs(),
  }).values;
  const overrides = readOverrides(o);
  try {
    return resolveConfig(PROFILE, DATA, o.method, o.seed, overrides);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(configErrorText(e, overrides));
    throw e;
  }
}

/**
 * Starts the backend the config names: with `auto`, WebGPU where the browser offers a GPU that
 * is not a software fallback, tfjs's wasm backend otherwise (the choice `deno task train` makes).
 */
async function startBackend(config: TrainConfig): Promise<BackendInfo> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null) ?? null;
  const choice = config.backend;
  const backend: BackendName = choice !== "auto"
    ? choice
    : adapter && !adapter.info.isFallbackAdapter
    ? "webgpu"
    : "wasm";
  if (backend === "webgpu" && !adapter) throw new UsageError("--backend webgpu: this browser offers no WebGPU adapter");
  if (!(await switchBackend(backend))) throw new Error(`Cannot start the tfjs ${backend} backend`);
  return {
    backend,
    adapter: adapter ? adapter.info.description || adapter.info.vendor : null,
    fallbackAdapter: adapter?.info.isFallbackAdapter ?? null,
    versions: { tfjs: tf.version.tfjs, browser: navigator.userAgent },
  };
}

/** The `deno task train` command of the same run: the options that differ from the profile's, on `backend`. */
function commandOf(config: TrainConfig, backend: BackendName): string {
  const defaults = resolveConfig(PROFILE, DATA, config.method, config.seed);
  const changed = FIELD_KEYS.filter((k) => k !== "backend" && config[k] !== defaults[k]);
  const overrides: TrainOverrides = { ...Object.fromEntries(changed.map((k) => [k, config[k]])), backend };
  return [
    `deno task train --profile ${PROFILE} --data ${DATA} --method ${config.method} --seed ${config.seed}`,
    ...overrideArgs(overrides),
    "--out run",
  ].join(" ");
}

/** The heat maps' images: each one's pixels, digit cell and whole-digit crops. */
function heatMapImages(ds: Dataset): HeatMapImages {
  const grid = datasetCropGrid(ds);
  const indices = Array.from({ length: ds.count }, (_, i) => i);
  return {
    side: ds.side,
    perSide: grid.perSide,
    pixels: indices.map((i) => renderImageBytes(ds, i, new Uint8Array(ds.side * ds.side))),
    cells: indices.map((i) => cellSquare(ds, i)),
    wholeDigit: indices.map((i) => wholeDigitCrops(grid, cellSquare(ds, i))),
  };
}

const loading = (async () => {
  post({ type: "status", text: "loading and checking MNIST…" });
  const [trainSet, testSet] = await Promise.all([fetchSplit("train"), fetchSplit("test")]);
  post({ type: "ready", defaults: formDefaults() });
  return { trainSet, testSet: takeFirst(testSet, SNAPSHOT_IMAGES) };
})();

let session: Session | null = null;
let started = false, paused = false, looping = false;

/** Trains until the run ends or is paused, one iteration per task so that a Pause is read between two. */
async function loop(): Promise<void> {
  if (looping || !session) return;
  looping = true;
  try {
    while (!session.done && !paused) {
      const { record, snapshot } = await session.iterate();
      post({ type: "step", record, snapshot });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    post(session.done ? { type: "done" } : { type: "paused" });
  } finally {
    looping = false;
  }
}

async function start(config: TrainConfig): Promise<void> {
  const { trainSet, testSet } = await loading;
  post({ type: "status", text: "starting the backend…" });
  const backend = await startBackend(config);
  session = createSession(config, takeFirst(trainSet, config.trainSize), {
    snapshots: { images: testSet, at: () => true },
  });
  post({
    type: "started",
    config,
    backend: describeBackend(backend),
    iterations: iterationsPerEpoch(config) * config.epochs,
    command: commandOf(config, backend.backend),
    images: heatMapImages(testSet),
  });
  await loop();
}

/** Ends the run with its error's message: the page shows it; another run needs a new worker (Reset). */
function fail(e: unknown): void {
  session?.dispose();
  session = null;
  post({ type: "error", message: e instanceof Error ? e.message : String(e) });
}

loading.catch(fail);

self.addEventListener("message", (event: MessageEvent<PageMessage>) => {
  const message = event.data;
  if (message.type === "start" && !started) {
    let config;
    try {
      config = configOf(message.settings);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      post({ type: "rejected", message: e.message });
      return;
    }
    started = true;
    start(config).catch(fail);
  }
  if (message.type === "pause") paused = true;
  if (message.type === "resume") {
    paused = false;
    loop().catch(fail);
  }
});
