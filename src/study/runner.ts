/**
 * Running a study: every run trained and evaluated in its own process (tfjs's wasm backend is
 * single-threaded, so `jobs` processes use `jobs` cores), the raw baselines beside them, one
 * progress line for the whole study, and nothing redone that is already done: a finished run is
 * skipped, an interrupted one resumes from its checkpoint.
 *
 * @module
 */

import type { BackendChoice } from "../backend.ts";
import { UserError } from "../cli.ts";
import { exists, type FolderKind, isFolderOf, openFolder, removeLeftovers } from "../files.ts";
import { onInterrupt } from "../interrupt.ts";
import { describeHolder, liveHolder, lockFolder } from "../lock.ts";
import {
  iterationsPerEpoch,
  type ProfileName,
  PROFILES,
  resolveConfig,
  sameScience,
  scienceDiff,
  type TrainConfig,
} from "../config.ts";
import type { RawResult } from "../eval/evaluate.ts";
import { formatDuration } from "../progress.ts";
import { loadCheckpointConfig } from "../train/checkpoint.ts";
import { RUN_FOLDER, runFiles } from "../train/run_folder.ts";
import { type Job, JOB_ENTRY, jobLine } from "./job.ts";
import { runName, type RunSpec } from "./plan.ts";
import { readRaw, readRun, type RunRecord } from "./results.ts";

/**
 * A study's folder (of `reproduce`, or of `sweep`, whose runs are one level down, in their
 * variant's folder): written over time. One written before markers existed is recognised by a
 * run folder in it.
 */
export const STUDY_FOLDER: FolderKind = { name: "study", unmarked: (dir) => holdsRun(dir, 2) };

/** Whether `dir` or a folder `depth` − 1 levels below it holds a run folder. */
async function holdsRun(dir: string, depth: number): Promise<boolean> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isDirectory) continue;
    const sub = `${dir}/${entry.name}`;
    if (await isFolderOf(sub, RUN_FOLDER) || (depth > 1 && await holdsRun(sub, depth - 1))) return true;
  }
  return false;
}

/** Options of {@linkcode runStudy}. */
export interface StudyOptions {
  readonly profile: ProfileName;
  readonly out: string;
  readonly runs: readonly RunSpec[];
  /** Processes at a time. */
  readonly jobs: number;
  readonly backend: BackendChoice;
  readonly saveFeatures: boolean;
  /** Also probe the raw pixels of each dataset. @default true */
  readonly raw?: boolean;
  /**
   * Complete each run with both probe protocols and its landscape of objective (2), re-evaluating
   * runs evaluated before the paper's protocol existed; without it (a sweep, whose table needs
   * neither) an evaluation of either age will do. @default true
   */
  readonly complete?: boolean;
  readonly mnistDir?: string;
  /** Where status lines go. */
  readonly log: (line: string) => void;
}

/** What the study produced. */
export interface StudyOutput {
  readonly records: RunRecord[];
  readonly raws: RawResult[];
  /** Runs that failed, with the last lines of their logs. */
  readonly failed: { readonly name: string; readonly error: string }[];
}

const CONFIG = new URL("../../deno.json", import.meta.url);

/** Relative cost of an iteration by kind, before any has been measured (wasm, 2-core CPU). */
const PRIOR_COST: Record<string, number> = {
  "shifted/crltac": 4.4,
  "shifted/simclr": 1.0,
  "shifted/oracle": 1.0,
  "original/crltac": 1.4,
  "original/simclr": 1.0,
};

/**
 * Environment of the child processes. On a CPU-only machine WebGPU runs on Mesa, which compiles
 * every shader before its first use (minutes on a cold cache; REPRODUCE.md, "Earlier measurements"): the cache
 * lives in the study's folder, so that the runs after the first one, a resumed study, and a CI
 * job that keeps the results folder find it warm. A cache the user chose is kept.
 */
export function childEnv(
  out: string,
  userCache: string | null = Deno.env.get("MESA_SHADER_CACHE_DIR") ?? null,
): Record<string, string> {
  return { NO_COLOR: "1", MESA_SHADER_CACHE_DIR: userCache ?? `${Deno.realPathSync(out)}/.mesa-shader-cache` };
}

/** Runs `job` in a child process (src/jobs/child.ts), its output appended to `logPath`. */
async function runChild(
  job: Job,
  logPath: string,
  env: Record<string, string>,
): Promise<{ ok: boolean; tail: string }> {
  const file = await Deno.open(logPath, { write: true, create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--config", CONFIG.pathname, JOB_ENTRY.pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  running.add(child);
  const encoder = new TextEncoder();
  await file.write(encoder.encode(`\n$ ${jobLine(job)}\n`));
  const stdin = child.stdin.getWriter();
  await stdin.write(encoder.encode(JSON.stringify(job)));
  await stdin.close();
  const lines: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      await file.write(encoder.encode(chunk));
      lines.push(...chunk.split("\n").filter((l) => l.trim()));
      lines.splice(0, Math.max(0, lines.length - 20));
    }
  };
  try {
    await Promise.all([drain(child.stdout), drain(child.stderr)]);
    const status = await child.status;
    return { ok: status.success, tail: lines.slice(-8).join("\n") };
  } finally {
    running.delete(child);
    file.close();
  }
}

const running = new Set<Deno.ChildProcess>();

/** Stops every child process (on Ctrl-C): their last checkpoints stay for a resume. */
export function stopChildren(): void {
  for (const child of running) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
}

/**
 * On Ctrl-C or SIGTERM, stops the runs before the process exits with 130, saying how to resume.
 *
 * @returns Removes the handlers.
 */
export function stopRunsOnSignal(log: (line: string) => void): () => void {
  return onInterrupt(() => {
    log("interrupted: stopping the runs (their last checkpoints stay; run the same command to resume)");
    stopChildren();
  });
}

/** The resolved config of a run of the study. */
export function studyConfig(profile: ProfileName, spec: RunSpec, backend: BackendChoice): TrainConfig {
  return resolveConfig(profile, spec.data, spec.method, spec.seed, { ...spec.variant?.overrides, backend });
}

async function countLines(path: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

/**
 * Whether the run's evaluation is there, at the profile's probe sizes and of its weights, with
 * both probe protocols when `complete`.
 */
function isEvaluated(record: RunRecord, config: TrainConfig, complete: boolean): boolean {
  const e = record.eval, sizes = PROFILES[config.profile].eval;
  return e !== null && e.weightsSha256 === record.summary?.weightsSha256 &&
    e.probeTrainSize === sizes.probeTrainSize && e.probeTestSize === sizes.probeTestSize &&
    (!complete || "head/integrated/paper" in e.probes);
}

/** Whether the run's landscape of objective (2) is there, of its weights, at the profile's size. */
function hasLandscape(record: RunRecord, config: TrainConfig): boolean {
  const l = record.landscape;
  return l !== null && l.weightsSha256 === record.summary?.weightsSha256 &&
    l.images === PROFILES[config.profile].eval.landscapeImages;
}

/**
 * A run is done when a model trained with the same config (the backend aside) has its evaluation
 * and (when `complete`) its landscape.
 */
function isDone(record: RunRecord, config: TrainConfig, complete: boolean): boolean {
  const c = record.summary?.config;
  return c !== undefined && sameScience(c, config) && isEvaluated(record, config, complete) &&
    (!complete || hasLandscape(record, config));
}

/**
 * The study's run folders that hold a run of another config than the study asks for (in its
 * summary, or in its checkpoint's header when unfinished), with the fields that differ.
 */
async function foreignRuns(o: StudyOptions, records: readonly RunRecord[]): Promise<string[]> {
  const found: string[] = [];
  for (const [i, spec] of o.runs.entries()) {
    const dir = `${o.out}/${runName(spec)}`;
    const config = studyConfig(o.profile, spec, o.backend);
    const saved = records[i]!.summary?.config ?? await loadCheckpointConfig(runFiles(dir).checkpoint);
    const differs = saved ? scienceDiff(saved, config) : [];
    if (differs.length > 0) found.push(`${dir} (${differs.join(", ")})`);
  }
  return found;
}

/** The records of the study's run folders, in plan order. */
function readRuns(o: StudyOptions): Promise<RunRecord[]> {
  return Promise.all(o.runs.map((spec) => readRun(`${o.out}/${runName(spec)}`, runName(spec), spec)));
}

/**
 * Trains and evaluates the runs that are not done yet, `jobs` at a time, with the raw baselines,
 * holding the study folder's lock throughout.
 *
 * @throws {UserError} When the study folder holds anything but a study ({@linkcode STUDY_FOLDER}),
 *   another process holds it, the plan names a run twice, or a run folder holds a run of another
 *   config (which would be resumed into, or reported as this study's).
 */
export async function runStudy(o: StudyOptions): Promise<StudyOutput> {
  const names = o.runs.map(runName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UserError(`The plan names run ${twice} twice: one folder cannot hold two runs`);
  await openFolder(o.out, STUDY_FOLDER);
  const lock = await lockFolder(o.out, "study folder", o.log);
  try {
    const removed = await removeLeftovers(o.out);
    if (removed.length > 0) o.log(`removed ${removed.join(", ")} from ${o.out}, left by an interrupted write`);
    // A run still written by a process of an earlier study (its parent killed, it was not) would
    // fail when this study reaches it: say so before starting anything.
    const busy = o.runs.map((spec) => `${o.out}/${runName(spec)}`).flatMap((dir) => {
      const holder = liveHolder(dir);
      return holder ? [`${dir} (${describeHolder(holder)})`] : [];
    });
    if (busy.length > 0) {
      throw new UserError(`Runs of this study are being written by other processes: ${busy.join("; ")}`);
    }
    const records = await readRuns(o);
    const foreign = await foreignRuns(o, records);
    if (foreign.length > 0) {
      throw new UserError(
        `These run folders hold runs of another config: ${foreign.join("; ")}. ` +
          `Move them away or choose another --out`,
      );
    }
    return await runLocked(o, records);
  } finally {
    lock.release();
  }
}

async function runLocked(o: StudyOptions, records: readonly RunRecord[]): Promise<StudyOutput> {
  const env = childEnv(o.out);
  const mnist = o.mnistDir ? { mnistDir: o.mnistDir } : {};
  const complete = o.complete ?? true;
  type Task = { name: string; kind: string; steps: number; epochs: number; dir: string; work: () => Promise<void> };
  const failed: StudyOutput["failed"] = [];
  const jobs: Task[] = [];
  const datasets = [...new Set(o.runs.map((r) => r.data))];
  for (const data of o.raw === false ? [] : datasets) {
    const path = `${o.out}/raw-${data}.json`;
    if (await readRaw(path)) continue;
    jobs.push({
      name: `raw-${data}`,
      kind: "raw",
      steps: 0,
      epochs: 0,
      dir: o.out,
      work: async () => {
        const job: Job = { kind: "raw", data, profile: o.profile, out: path, ...mnist };
        const r = await runChild(job, `${o.out}/raw-${data}.log`, env);
        if (!r.ok) throw new Error(r.tail);
      },
    });
  }
  for (const [i, spec] of o.runs.entries()) {
    const name = runName(spec);
    const dir = `${o.out}/${name}`;
    const config = studyConfig(o.profile, spec, o.backend);
    if (isDone(records[i]!, config, complete)) continue;
    const steps = iterationsPerEpoch(config) * config.epochs;
    jobs.push({
      name,
      kind: `${spec.data}/${spec.method}`,
      steps,
      epochs: config.epochs,
      dir,
      work: async () => {
        // Marked before run.log goes in: the training it starts takes only a run folder.
        await openFolder(dir, RUN_FOLDER);
        const files = runFiles(dir);
        const hasSummary = await exists(files.summary);
        if (!hasSummary) {
          const resume = await exists(files.checkpoint);
          const r = await runChild({ kind: "train", config, dir, resume, ...mnist }, `${dir}/run.log`, env);
          if (!r.ok) throw new Error(r.tail);
        }
        // Read again: a run trained just now has a new summary.
        const trained = await readRun(dir, name, spec);
        if (!isEvaluated(trained, config, complete)) {
          const features = o.saveFeatures ? { saveFeaturesDir: `${dir}/features` } : {};
          const r = await runChild({ kind: "evaluate", run: dir, ...features, ...mnist }, `${dir}/run.log`, env);
          if (!r.ok) throw new Error(r.tail);
        }
        if (complete && !hasLandscape(trained, config)) {
          const r = await runChild({ kind: "landscape", run: dir, ...mnist }, `${dir}/run.log`, env);
          if (!r.ok) throw new Error(r.tail);
        }
      },
    });
  }

  const total = o.runs.length + (o.raw === false ? 0 : datasets.length);
  let finished = total - jobs.length;
  const active = new Set<Task>();
  const finishedJobs = new Set<Task>();
  const started = performance.now();
  // Work units for the ETA: training steps weighted by their kind's relative cost, plus a share
  // for evaluation; wall time per unit is measured as the study goes.
  const units = (job: Task) => job.kind === "raw" ? 10 : 1.2 * job.steps * (PRIOR_COST[job.kind] ?? 1);
  const status = async () => {
    let done = 0;
    const parts: string[] = [];
    for (const job of jobs) {
      if (finishedJobs.has(job)) done += units(job);
      else if (active.has(job) && job.kind !== "raw") {
        const steps = Math.min(await countLines(runFiles(job.dir).log), job.steps);
        done += steps * (PRIOR_COST[job.kind] ?? 1);
        const perEpoch = job.steps / job.epochs;
        const epoch = Math.min(job.epochs, Math.floor(steps / perEpoch) + 1);
        parts.push(
          `${job.name} ${
            steps === job.steps ? "evaluating" : `epoch ${epoch}/${job.epochs} step ${steps}/${job.steps}`
          }`,
        );
      } else if (active.has(job)) parts.push(job.name);
    }
    const elapsed = (performance.now() - started) / 1000;
    const all = jobs.reduce((sum, j) => sum + units(j), 0);
    const eta = done > 0 ? ((all - done) * elapsed) / done : NaN;
    o.log(
      `[${finished}/${total} done, ${formatDuration(elapsed)}] ${parts.join(", ") || "starting"}` +
        (Number.isFinite(eta) ? ` | study ETA ${formatDuration(eta)}` : ""),
    );
  };
  const timer = setInterval(() => void status(), 20_000);
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      active.add(job);
      o.log(`start ${job.name}`);
      try {
        await job.work();
        o.log(`done ${job.name}`);
      } catch (e) {
        failed.push({ name: job.name, error: (e as Error).message });
        o.log(`FAILED ${job.name} (log: ${job.kind === "raw" ? `${o.out}/${job.name}.log` : `${job.dir}/run.log`})`);
      } finally {
        active.delete(job);
        finishedJobs.add(job);
        finished++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  } finally {
    clearInterval(timer);
  }
  const results = await readRuns(o);
  const raws = (await Promise.all(datasets.map((d) => readRaw(`${o.out}/raw-${d}.json`)))).filter((r): r is RawResult =>
    r !== null
  );
  return { records: results, raws, failed };
}
