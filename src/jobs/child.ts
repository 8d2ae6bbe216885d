/**
 * A study's child process: reads one job (src/study/job.ts) as JSON on its standard input and
 * runs it (./jobs.ts), its output and exit status those of the `deno task` command that does the
 * same work. The study runner starts one per training, evaluation, landscape and raw baseline.
 *
 * @module
 */

import { runMain } from "../cli.ts";
import type { Job } from "../study/job.ts";
import { runJob } from "./jobs.ts";

/** The job on standard input. */
async function readJob(): Promise<Job> {
  const text = await new Response(Deno.stdin.readable).text();
  return JSON.parse(text) as Job;
}

if (import.meta.main) {
  await runMain(
    "Usage: a study's child process; reads one job as JSON on standard input",
    async () => await runJob(await readJob()),
  );
}
