/**
 * A run folder as training leaves it and evaluation reads it: its files, and the hash that
 * names its weights.
 *
 * @module
 */

import { UserError } from "../cli.ts";
import { cropGrid } from "../data/crops.ts";
import type { Dataset } from "../data/dataset.ts";
import { checkInputFolder, type FolderKind } from "../files.ts";
import { encoderSpecs } from "../model/encoder.ts";
import { hashValues } from "../model/params.ts";
import { policySpecs } from "../model/policy.ts";
import { type Checkpoint, isCheckpointFile, loadCheckpoint } from "./checkpoint.ts";

/** The files of a run folder. */
export function runFiles(dir: string) {
  return {
    checkpoint: `${dir}/checkpoint.bin`,
    log: `${dir}/log.jsonl`,
    /** P(t|x) of a few test images at a few steps of training (`PolicySnapshot` per line). */
    snapshots: `${dir}/policy-snapshots.jsonl`,
    summary: `${dir}/summary.json`,
  };
}

/**
 * A run folder: written over time by training, then by evaluation and the landscape. One written
 * before markers existed is recognised by its checkpoint.
 */
export const RUN_FOLDER: FolderKind = { name: "run", unmarked: (dir) => isCheckpointFile(runFiles(dir).checkpoint) };

/**
 * The checkpoint of the run folder `dir` that the user gave as `--run`.
 *
 * @throws {UserError} When `dir` is not a folder, or holds no checkpoint.
 */
export async function runCheckpoint(dir: string): Promise<Checkpoint> {
  await checkInputFolder(dir, "run folder");
  const saved = await loadCheckpoint(runFiles(dir).checkpoint);
  if (!saved) {
    throw new UserError(`Cannot read the run folder ${dir}: it holds no checkpoint.bin (train the run first)`);
  }
  return saved;
}

/** sha256 of a checkpoint's weights (encoder, then P(T|X)). */
export function weightsHash(c: Pick<Checkpoint, "config" | "encoder" | "policy">, ds: Pick<Dataset, "side">): string {
  const specs = [...encoderSpecs(c.config.headDim)];
  const values = [...c.encoder];
  if (c.policy) {
    specs.push(...policySpecs(ds.side, cropGrid(ds.side).count));
    values.push(...c.policy);
  }
  return hashValues(specs, values);
}

/**
 * The records of a JSON-lines file (`log.jsonl`, `policy-snapshots.jsonl`), each an object with
 * an integer `step`; none when the file does not exist. A last line without its newline that
 * does not read is one cut short by a crash: it is left out, and `onTorn` told its number.
 *
 * @throws {UserError} At any other line that is not such a record, naming the file and line.
 */
export async function readJsonLines<T extends { step: number }>(
  path: string,
  onTorn: (line: number) => void = () => {},
): Promise<T[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const lines = text.split("\n");
  const records: T[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) {
        onTorn(i + 1);
        continue;
      }
      throw new UserError(`${path}:${i + 1}: not a JSON line (${(e as Error).message})`);
    }
    if (typeof record !== "object" || record === null || !Number.isInteger((record as T).step)) {
      throw new UserError(`${path}:${i + 1}: not a record of a training step (no integer "step")`);
    }
    records.push(record as T);
  }
  return records;
}
