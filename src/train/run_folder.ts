/**
 * A run folder as training leaves it and evaluation reads it: its files, and the hash that
 * names its weights.
 *
 * @module
 */

import { cropGrid } from "../data/crops.ts";
import type { Dataset } from "../data/dataset.ts";
import { encoderSpecs } from "../model/encoder.ts";
import { hashValues } from "../model/params.ts";
import { policySpecs } from "../model/policy.ts";
import type { Checkpoint } from "./checkpoint.ts";

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

/** sha256 of a checkpoint's weights (encoder, then P(T|X)). */
export function weightsHash(c: Checkpoint, ds: Pick<Dataset, "side">): string {
  const specs = [...encoderSpecs(c.config.headDim)];
  const values = [...c.encoder];
  if (c.policy) {
    specs.push(...policySpecs(ds.side, cropGrid(ds.side).count));
    values.push(...c.policy);
  }
  return hashValues(specs, values);
}

/** The records of a JSON-lines file (`log.jsonl`, `policy-snapshots.jsonl`); none when it does not exist. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
