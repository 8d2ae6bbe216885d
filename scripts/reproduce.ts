/**
 * `deno task reproduce`: the whole study — dataset check, training and evaluation of every run,
 * comparison with the fixtures, report.
 *
 * @module
 */

import { BACKEND_CHOICES, probeAdapter } from "../src/backend.ts";
import { choice, int, list, type Parse, parseCli, runMain, UsageError } from "../src/cli.ts";
import { PROFILE_NAMES, type ProfileName, PROFILES } from "../src/config.ts";
import { DATASET_NAMES, datasetHashes, loadDataset } from "../src/data/dataset.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { checkFolder } from "../src/files.ts";
import { jobsThatFit } from "../src/memory.ts";
import { formatDuration } from "../src/progress.ts";
import { finishStudy } from "../src/report/finish.ts";
import { filterRuns, parseShard, type RunSpec, shardRuns, studyRuns } from "../src/study/plan.ts";
import { runStudy, stopRunsOnSignal, STUDY_FOLDER } from "../src/study/runner.ts";
import { estimateStudySeconds } from "../src/study/estimate.ts";
import { seedParser } from "../src/train/options.ts";

const USAGE = `
Usage: deno task reproduce [--profile ${PROFILE_NAMES.join("|")}] [options]

Regenerates and verifies the datasets, trains and evaluates SimCLR and CRL-TAC on shifted and
original MNIST for every seed (and the oracle ablation on shifted MNIST), probes each with this
package's protocol and the paper's, computes each run's landscape of objective (2), compares the
results with the paper and with this package's fixtures, and writes OUT/REPORT.md (table and
figures) and OUT/results.json. Finished runs are skipped and interrupted ones resume, so running
it again continues where it stopped.
Exit code: 0 every checked comparison passes, 1 one fails (or a run failed), 2 usage error.

  --profile NAME       ${PROFILE_NAMES.map((p) => `${p}: ${PROFILES[p].description}`).join("\n                       ")}
                       Default: paper on a real GPU; elsewhere the estimated time is printed
                       and the command stops unless --yes is given
  --yes                run the paper profile without a real GPU
  --out DIR            output folder (default results/<profile>): new, empty, or a study
                       folder of this package, which is continued
  --only FILTER        only runs matching dataset/method/seed, parts may be * (repeatable),
                       e.g. --only shifted/crltac --only original/*/0
  --seeds LIST         seeds, comma-separated (default: the profile's, 0,1,2,3)
  --shard i/n          only every n-th run starting at the i-th, for parallel machines;
                       combine the shards' folders with deno task merge
  --jobs N             runs at a time (default: the number of CPU cores on wasm, 1 on a GPU)
  --backend NAME       ${BACKEND_CHOICES.join(", ")}
  --save-features      also write each run's features (OUT/<run>/features/, with manifest.json)
  --update-fixtures    rewrite fixtures/<profile>.json from this study's results
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
`;

async function hasRealGpu(): Promise<boolean> {
  const adapter = await probeAdapter();
  return adapter !== null && !adapter.fallback;
}

/** Reads a text with a function that throws RangeError, as a usage error naming the option. */
function via<T>(read: (text: string) => T): Parse<T> {
  return (text, flag) => {
    try {
      return read(text);
    } catch (e) {
      const message = (e as Error).message;
      throw new UsageError(`${flag} ${text}: ${message[0]!.toLowerCase()}${message.slice(1)}`);
    }
  };
}

async function verifyDatasets(datasets: readonly string[], mnistDir: string | undefined): Promise<void> {
  const expected = JSON.parse(await Deno.readTextFile(new URL("../fixtures/dataset.json", import.meta.url)));
  for (const name of DATASET_NAMES.filter((d) => datasets.includes(d))) {
    for (const split of ["train", "test"] as const) {
      const actual = datasetHashes(await loadDataset(name, split, mnistDir));
      if (JSON.stringify(actual) !== JSON.stringify(expected[name][split])) {
        throw new Error(
          `The generated ${name}/${split} dataset differs from fixtures/dataset.json: ` +
            `${JSON.stringify(actual)} vs ${JSON.stringify(expected[name][split])}`,
        );
      }
    }
  }
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    profile: { type: "string", parse: choice(PROFILE_NAMES) },
    yes: { type: "boolean" },
    out: { type: "string" },
    only: { type: "string", multiple: true, parse: via((f) => filterRuns(studyRuns([0]), f) && f) },
    seeds: { type: "string", parse: list(seedParser()) },
    shard: { type: "string", parse: via(parseShard) },
    jobs: { type: "string", parse: int(1) },
    backend: { type: "string", parse: choice(BACKEND_CHOICES) },
    "save-features": { type: "boolean" },
    "update-fixtures": { type: "boolean" },
    mnist: { type: "string" },
  }).values;
  await checkMnistFolder(o.mnist);
  const started = performance.now();
  const backend = o.backend ?? "auto";
  const profileName: ProfileName = o.profile ?? "paper";
  const profile = PROFILES[profileName];
  let runs: RunSpec[] = studyRuns(o.seeds ?? profile.seeds);
  if (o.only?.length) {
    const kept = new Set(o.only.flatMap((f) => filterRuns(runs, f)));
    runs = runs.filter((r) => kept.has(r));
  }
  if (o.shard) runs = shardRuns(runs, o.shard);
  if (runs.length === 0) throw new UsageError("no run matches the --only/--shard selection");
  // Only now, with the command line known to be good: probing the GPU may print driver noise.
  const gpu = await hasRealGpu();
  const fit = jobsThatFit(o.jobs ?? (gpu && backend !== "wasm" ? 1 : navigator.hardwareConcurrency));
  if (fit.warning) console.error(`warning: ${fit.warning}`);
  const jobs = fit.jobs;
  if (profileName === "paper" && !gpu && !o.yes) {
    const estimate = estimateStudySeconds(profileName, runs, jobs);
    console.error(
      `No real GPU adapter here: the paper profile (${runs.length} runs) would take about ` +
        `${formatDuration(estimate)} on this machine's CPU (${jobs} at a time).\n` +
        `Run \`deno task reproduce --profile smoke\` for the small study, or add --yes to run the paper profile anyway.`,
    );
    return 2;
  }
  const out = o.out ?? `results/${profileName}`;
  // Before the datasets are checked (seconds); runStudy takes the folder.
  await checkFolder(out, STUDY_FOLDER);
  const log = (line: string) => console.error(line);
  const estimate = gpu
    ? ""
    : ` (about ${formatDuration(estimateStudySeconds(profileName, runs, jobs))} on a 2-core CPU)`;
  log(`profile ${profileName}: ${runs.length} runs, ${jobs} at a time, into ${out}/${estimate}`);

  let t = performance.now();
  await verifyDatasets([...new Set(runs.map((r) => r.data))], o.mnist);
  log(`stage dataset: verified against fixtures/dataset.json in ${formatDuration((performance.now() - t) / 1000)}`);

  t = performance.now();
  const removeSignalHandlers = stopRunsOnSignal(log);
  const study = await runStudy({
    profile: profileName,
    out,
    runs,
    jobs,
    backend,
    saveFeatures: o["save-features"] ?? false,
    // One shard is enough to probe the raw pixels; merge finds them there.
    raw: o.shard === undefined || o.shard.index === 1,
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
    log,
  });
  removeSignalHandlers();
  log(`stage runs: ${formatDuration((performance.now() - t) / 1000)}`);

  const comparison = await finishStudy({
    profile: profileName,
    out,
    records: study.records,
    raws: study.raws,
    time: { ms: performance.now() - started, kind: "wall" },
    command: `deno task reproduce ${args.join(" ")}`.trim(),
    updateFixtures: o["update-fixtures"] ?? false,
  });
  log(`wrote ${out}/REPORT.md and ${out}/results.json`);
  for (const f of study.failed) log(`run ${f.name} failed:\n${f.error}`);
  log(`total: ${formatDuration((performance.now() - started) / 1000)}`);
  return comparison.failures.length === 0 && study.failed.length === 0 ? 0 : 1;
});
