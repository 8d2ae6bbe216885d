/**
 * Brings run and study folders written by earlier versions of this package to the formats it
 * reads now, so that they can still be resumed, evaluated and reported (`deno task upgrade`):
 *
 * - the names of 2026-12-07: `nonEmptyMass` → `concentration` (the paper's crop concentration),
 *   `oracleMass` → `wholeDigitMass`, and the estimators `exact` → `exact-own`, `hybrid` →
 *   `exact-numerator`;
 * - configs saved before the P-step study's fields existed get them, with the values those runs
 *   trained with (the paper's method), next to their neighbours;
 * - a checkpoint or run snapshot saved before its arrays' sha256 existed gets it.
 *
 * The files' values are otherwise kept as they are; a file already in today's format is not
 * written. A sweep's variant folders keep their names (the grid's are now `exact-own…` and
 * `exact-numerator…`). Each folder is locked while it is upgraded, so that no training,
 * evaluation or study writes it meanwhile.
 *
 * @module
 */

import { UserError } from "../cli.ts";
import { FIELD_KEYS, type PStepExperiment } from "../config.ts";
import { fsError, isFolderOf, isMarkedAs, writeFileAtomic } from "../files.ts";
import { lockFolder } from "../lock.ts";
import { CHECKPOINT_MAGIC, rewriteFloatFileHeader } from "../train/checkpoint.ts";
import { RUN_FOLDER } from "../train/run_folder.ts";
import { SNAPSHOT_MAGIC } from "../train/run_snapshot.ts";
import { STUDY_FOLDER } from "./runner.ts";

/** Keys renamed on 2026-12-07, wherever they appear. */
const RENAMED_KEYS: Readonly<Record<string, string>> = { nonEmptyMass: "concentration", oracleMass: "wholeDigitMass" };

/** Estimators renamed on 2026-12-07. */
const RENAMED_ESTIMATORS: Readonly<Record<string, string>> = { exact: "exact-own", hybrid: "exact-numerator" };

/** The P-step study's fields, with the values every config saved before them trained with. */
const ADDED_FIELDS: PStepExperiment = {
  policyEstimator: "sampled",
  policySelf: false,
  warmup: 0,
  policySampledSteps: 0,
  policyEvery: 1,
};

/** A config's keys in the order this package writes them. */
const CONFIG_ORDER: readonly string[] = ["profile", "data", "method", "seed", ...FIELD_KEYS];

/** A saved config with the fields it predates, each after the last of its predecessors it has. */
function withAddedFields(config: Record<string, unknown>): Record<string, unknown> {
  const entries = Object.entries(config);
  for (const [key, value] of Object.entries(ADDED_FIELDS)) {
    if (key in config) continue;
    const before = CONFIG_ORDER.slice(0, CONFIG_ORDER.indexOf(key));
    const last = entries.findLastIndex(([k]) => before.includes(k));
    entries.splice(last + 1, 0, [key, value]);
  }
  return Object.fromEntries(entries);
}

/** Whether `x` is a run's config: an object with the run's identity. */
function isConfig(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && ["profile", "data", "method", "seed"].every((k) => k in x);
}

/** `x` in today's format: keys and estimators renamed at any depth, run configs completed. */
export function upgradeValue(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(upgradeValue);
  if (typeof x !== "object" || x === null) return x;
  const entries = Object.entries(x).map(([k, v]): [string, unknown] => {
    const value = k === "policyEstimator" && typeof v === "string" ? RENAMED_ESTIMATORS[v] ?? v : upgradeValue(v);
    return [RENAMED_KEYS[k] ?? k, value];
  });
  const o = Object.fromEntries(entries);
  return "config" in o && isConfig(o.config) ? { ...o, config: withAddedFields(o.config) } : o;
}

/** The JSON files a run or study folder may hold, written as `JSON.stringify(value, null, 2)` and a newline. */
const JSON_FILES = [
  "summary.json",
  "eval.json",
  "landscape.json",
  "landscape-curve.json",
  "sweep.json",
  "results.json",
];

/** The JSON-lines files, a compact `JSON.stringify` per line. */
const JSON_LINES_FILES = ["log.jsonl"];

/** What an upgrade changed: the files it rewrote. */
export interface UpgradeResult {
  /** The files rewritten, by path. */
  readonly rewritten: string[];
  /** The run folders looked at. */
  readonly runs: number;
}

/** The new text of a JSON or JSON-lines file, or null where it is in today's format already. */
function upgradedText(name: string, text: string): string | null {
  const out = JSON_LINES_FILES.includes(name)
    ? text.split("\n").map((line) => line.trim() === "" ? line : JSON.stringify(upgradeValue(JSON.parse(line))))
      .join("\n")
    : JSON.stringify(upgradeValue(JSON.parse(text)), null, 2) + (text.endsWith("\n") ? "\n" : "");
  return out === text ? null : out;
}

/** Rewrites `path` as `f` makes it from its bytes, when that differs; whether it did. */
async function rewrite(path: string, f: (bytes: Uint8Array) => Uint8Array | null): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw fsError(e, path, "read");
  }
  const out = f(bytes);
  if (out === null || (out.length === bytes.length && out.every((b, i) => b === bytes[i]))) return false;
  await writeFileAtomic(path, out);
  return true;
}

/** The files of `dir` (a run or study folder) that this package writes, upgraded; returns those rewritten. */
async function upgradeFiles(dir: string): Promise<string[]> {
  const rewritten: string[] = [];
  const cannot = (path: string) => (why: string) => new UserError(`Cannot upgrade ${path}: ${why}`);
  for (const name of [...JSON_FILES, ...JSON_LINES_FILES]) {
    const path = `${dir}/${name}`;
    const changed = await rewrite(path, (bytes) => {
      try {
        const text = upgradedText(name, new TextDecoder().decode(bytes));
        return text === null ? null : new TextEncoder().encode(text);
      } catch (e) {
        throw cannot(path)(`not the JSON this package writes (${(e as Error).message})`);
      }
    });
    if (changed) rewritten.push(path);
  }
  const floatFiles: [string, Uint8Array][] = [[`${dir}/checkpoint.bin`, CHECKPOINT_MAGIC]];
  try {
    for await (const e of Deno.readDir(`${dir}/snapshots`)) {
      if (e.isFile && e.name.endsWith(".bin")) floatFiles.push([`${dir}/snapshots/${e.name}`, SNAPSHOT_MAGIC]);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw fsError(e, `${dir}/snapshots`, "read");
  }
  for (const [path, magic] of floatFiles.sort(([a], [b]) => a < b ? -1 : 1)) {
    const f = (fields: Record<string, unknown>) => upgradeValue(fields) as Record<string, unknown>;
    if (await rewrite(path, (bytes) => rewriteFloatFileHeader(bytes, magic, f, cannot(path)))) rewritten.push(path);
  }
  return rewritten;
}

/**
 * Upgrades the run folder or study folder `dir` (a sweep's runs one level further down) in place.
 *
 * @throws {UserError} When `dir` is neither, or a run folder is in use.
 */
export async function upgradeFolder(dir: string): Promise<UpgradeResult> {
  const runs: string[] = [];
  if (await isFolderOf(dir, RUN_FOLDER)) runs.push(dir);
  else if (await isFolderOf(dir, STUDY_FOLDER)) {
    const walk = async (folder: string, depth: number) => {
      for await (const e of Deno.readDir(folder)) {
        if (!e.isDirectory) continue;
        const sub = `${folder}/${e.name}`;
        if (await isFolderOf(sub, RUN_FOLDER)) runs.push(sub);
        else if (depth > 1) await walk(sub, depth - 1);
      }
    };
    await walk(dir, 2);
  } else throw new UserError(`Cannot upgrade ${dir}: not a run or study folder of this package`);
  const rewritten: string[] = [];
  const locked = async (folder: string, what: string) => {
    const lock = await lockFolder(folder, what);
    try {
      rewritten.push(...await upgradeFiles(folder));
    } finally {
      lock.release();
    }
  };
  // A study's own files only where its marker says it is one: a folder taken for a study because
  // it holds runs may hold files of the same names that are not this package's.
  if (runs[0] !== dir && await isMarkedAs(dir, STUDY_FOLDER)) await locked(dir, "study folder");
  for (const run of runs.sort()) await locked(run, "run folder");
  return { rewritten, runs: runs.length };
}
