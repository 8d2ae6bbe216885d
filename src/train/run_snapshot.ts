/**
 * Run snapshots: the encoder's weights after chosen iterations of a run, and for CRL-TAC P(t|x)
 * of the landscape's images (the first training images) at that iteration, so that objective
 * (2)'s landscape can be followed along training (`deno task landscape`, landscape-curve.json).
 * P's network and the optimisers' moments are left out: a snapshot is for measuring, not for
 * resuming, and stays small (1.5 MB for the encoder).
 *
 * Files `snapshots/step-NNNNNN.bin` in the run folder, in the checkpoints' layout
 * (./checkpoint.ts) under their own magic bytes, written atomically.
 *
 * @module
 */

import { UserError } from "../cli.ts";
import type { TrainConfig } from "../config.ts";
import { writeFileAtomic } from "../files.ts";
import { decodeFloatFile, encodeFloatFile } from "./checkpoint.ts";

/** The encoder, and P(t|x) where it is learned, after iteration `step` of a run. */
export interface RunSnapshot {
  /** The run's resolved config. */
  readonly config: TrainConfig;
  /** Iterations completed. */
  readonly step: number;
  /** The encoder's parameters, in the order of src/model/encoder.ts's `encoderSpecs()`. */
  readonly encoder: Float32Array[];
  /** P(t|x) of the first `images` training images, `images × |T|` row-major; null where P is fixed. */
  readonly policyProbs: { readonly images: number; readonly probs: Float32Array } | null;
}

/** The first bytes of a run snapshot. */
export const SNAPSHOT_MAGIC = new TextEncoder().encode("CRLSNAP1");

/** The first iteration the log-spaced default snapshots: earlier ones say little about (2). */
const FIRST_DEFAULT = 32;

/** Runs up to this many iterations (the medium profile's 768 among them) get no snapshots by default. */
export const SHORT_RUN = 1024;

/**
 * The iterations a run of `total` iterations snapshots by default: none for a run of at most
 * {@linkcode SHORT_RUN} iterations (its final weights say enough, and it can be trained again);
 * otherwise 32, 64, 128, … below `total`, and `total`.
 */
export function defaultSnapshotSteps(total: number): number[] {
  if (total <= SHORT_RUN) return [];
  const steps: number[] = [];
  for (let s = FIRST_DEFAULT; s < total; s *= 2) steps.push(s);
  return [...steps, total];
}

/** The folder of a run's snapshots. */
export function snapshotFolder(dir: string): string {
  return `${dir}/snapshots`;
}

/** The file of the snapshot after iteration `step`. */
export function snapshotPath(dir: string, step: number): string {
  return `${snapshotFolder(dir)}/step-${String(step).padStart(6, "0")}.bin`;
}

/** The error for a snapshot file that cannot be read: the user's to remove or restore. */
function unreadable(path: string, why: string): UserError {
  return new UserError(`Cannot read run snapshot "${path}": ${why}`);
}

/** Encodes a snapshot as bytes. */
export function encodeSnapshot(s: RunSnapshot): Uint8Array {
  return encodeFloatFile(
    SNAPSHOT_MAGIC,
    { config: s.config, step: s.step, policyImages: s.policyProbs?.images ?? null },
    [["encoder", s.encoder], ["policyProbs", s.policyProbs ? [s.policyProbs.probs] : []]],
  );
}

/**
 * Decodes a snapshot.
 *
 * @throws {UserError} If the bytes are not a complete, undamaged snapshot.
 */
export function decodeSnapshot(bytes: Uint8Array, path: string): RunSnapshot {
  const { header, groups } = decodeFloatFile<{ config: TrainConfig; step: number; policyImages: number | null }>(
    bytes,
    path,
    SNAPSHOT_MAGIC,
    (why) => unreadable(path, why),
  );
  const probs = groups.policyProbs?.[0];
  return {
    config: header.config,
    step: header.step,
    encoder: groups.encoder ?? [],
    policyProbs: header.policyImages !== null && probs ? { images: header.policyImages, probs } : null,
  };
}

/** Saves the snapshot of the run in `dir` atomically, creating the snapshot folder if needed. */
export async function saveSnapshot(dir: string, s: RunSnapshot): Promise<void> {
  await Deno.mkdir(snapshotFolder(dir), { recursive: true });
  await writeFileAtomic(snapshotPath(dir, s.step), encodeSnapshot(s));
}

/** Loads the snapshot in `path`. */
export async function loadSnapshot(path: string): Promise<RunSnapshot> {
  return decodeSnapshot(await Deno.readFile(path), path);
}

/** The iterations of the run in `dir` that have a snapshot, in order; none when it has no snapshot folder. */
export async function listSnapshots(dir: string): Promise<number[]> {
  const steps: number[] = [];
  try {
    for await (const entry of Deno.readDir(snapshotFolder(dir))) {
      const m = /^step-(\d{6,})\.bin$/.exec(entry.name);
      if (entry.isFile && m) steps.push(Number(m[1]));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return steps.sort((a, b) => a - b);
}
