/**
 * `deno task sweep`: trains and evaluates a grid of P-step variants on the same seeds, and writes
 * one table. Resumable and shardable like `reproduce`.
 *
 * @module
 */

import { BACKEND_CHOICES } from "../src/backend.ts";
import { choice, int, list, parseCli, runMain, UsageError, UserError } from "../src/cli.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { PROFILES } from "../src/config.ts";
import { jobsThatFit } from "../src/memory.ts";
import { formatDuration } from "../src/progress.ts";
import { sweepMarkdown } from "../src/report/sweep_report.ts";
import { parseShard, runName, shardRuns } from "../src/study/plan.ts";
import { readRun } from "../src/study/results.ts";
import { runStudy, stopRunsOnSignal, STUDY_FOLDER } from "../src/study/runner.ts";
import { aggregateSweep, GRIDS, sweepRuns } from "../src/study/sweep.ts";
import { seedParser } from "../src/train/options.ts";
import { checkFolder, writeFileAtomic } from "../src/files.ts";

const USAGE = `
Usage: deno task sweep --grid NAME [options]

Trains and evaluates every variant of a grid for each seed, then writes OUT/SWEEP.md (mean ± std
over seeds, every run, λ by the paper's rule) and OUT/sweep.json. Finished runs are skipped and
interrupted ones resume; shards split the runs over machines (run the sweep again without
--shard over the union of their folders to write the table).

  --grid NAME          ${Object.keys(GRIDS).join(", ")}
  --out DIR            output folder (default results/sweep-<grid>): new, empty, or a study
                       folder of this package, which is continued
  --seeds LIST         seeds, comma-separated (default: the grid's)
  --only LIST          only these variants, comma-separated
  --shard i/n          only every n-th run starting at the i-th
  --jobs N             runs at a time (default: the number of CPU cores)
  --backend NAME       ${BACKEND_CHOICES.join(", ")}
  --table              only write the table from the runs already done
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    grid: { type: "string", parse: choice(Object.keys(GRIDS)), required: true },
    out: { type: "string" },
    seeds: { type: "string", parse: list(seedParser()) },
    // --table trains nothing: what would choose or run runs is refused with it.
    only: { type: "string", parse: list((text) => text), conflicts: "table" },
    shard: { type: "string", conflicts: "table" },
    jobs: { type: "string", parse: int(1), conflicts: "table" },
    backend: { type: "string", parse: choice(BACKEND_CHOICES), conflicts: "table" },
    table: { type: "boolean" },
    mnist: { type: "string", conflicts: "table" },
  }).values;
  await checkMnistFolder(o.mnist);
  const grid = GRIDS[o.grid]!;
  const names = grid.variants.map((v) => v.name);
  const unknown = o.only?.find((name) => !names.includes(name));
  if (unknown !== undefined) {
    throw new UsageError(`--only ${unknown}: no such variant in ${grid.name} (${names.join(", ")})`);
  }
  const seeds = o.seeds ?? grid.seeds;
  let runs = sweepRuns(grid, seeds);
  if (o.only) runs = runs.filter((r) => o.only!.includes(r.variant!.name));
  if (o.shard) {
    try {
      runs = shardRuns(runs, parseShard(o.shard));
    } catch (e) {
      throw new UsageError(`--shard ${o.shard}: ${(e as Error).message}`);
    }
  }
  const fit = jobsThatFit(o.jobs ?? navigator.hardwareConcurrency);
  if (fit.warning) console.error(`warning: ${fit.warning}`);
  const jobs = fit.jobs;
  const out = o.out ?? `results/sweep-${grid.name}`;
  await checkFolder(out, STUDY_FOLDER);
  const started = performance.now();
  const log = (line: string) => console.error(line);
  stopRunsOnSignal(log);
  log(
    o.table
      ? `sweep ${grid.name}: the table of the runs in ${out}/`
      : `sweep ${grid.name}: ${runs.length} runs, ${jobs} at a time, into ${out}/`,
  );
  const study = o.table ? { failed: [] } : await runStudy({
    profile: grid.profile,
    out,
    runs,
    jobs,
    backend: o.backend ?? "auto",
    saveFeatures: false,
    raw: false,
    complete: false,
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
    log,
  });
  const all = sweepRuns(grid, seeds);
  const records = await Promise.all(all.map((r) => readRun(`${out}/${runName(r)}`, runName(r), r)));
  if (o.table && records.every((r) => r.summary === null && r.eval === null)) {
    // A mistyped --out would otherwise give an empty table and exit 0.
    throw new UserError(`--out ${out}: no run of the ${grid.name} grid is there`);
  }
  const result = aggregateSweep(grid, records, PROFILES[grid.profile].train.lambda);
  // The command that makes every run of this table, whatever part of it this invocation ran.
  const command = [
    `deno task sweep --grid ${grid.name}`,
    ...(o.seeds ? [`--seeds ${seeds.join(",")}`] : []),
    ...(o.out ? [`--out ${out}`] : []),
  ].join(" ");
  await writeFileAtomic(`${out}/SWEEP.md`, new TextEncoder().encode(sweepMarkdown(grid, result, command)));
  await writeFileAtomic(`${out}/sweep.json`, new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"));
  for (const f of study.failed) log(`run ${f.name} failed:\n${f.error}`);
  log(
    `wrote ${out}/SWEEP.md (${result.variants.length} variants evaluated) in ${
      formatDuration((performance.now() - started) / 1000)
    }`,
  );
  return study.failed.length === 0 ? 0 : 1;
});
