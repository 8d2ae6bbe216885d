/**
 * A soak test, too long for CI (22 minutes on a 2-core EPYC with `--reference`, 2026-12-06, the
 * first 10 beside two other runs; an uninterrupted study first adds about 10): a smoke
 * `reproduce` killed with -9
 * (the whole process group, children included) at 20 random points read from the study's own
 * logs, resumed after each, then run to the end. It must end with exit 0 (every fixture check
 * passing), every run's weights equal to those of an uninterrupted study, and no lock or
 * half-written file left.
 *
 * ```sh
 * deno run --allow-all tests/soak.ts [--kills 20] [--seed 1] [--jobs 2] [--out DIR] [--reference DIR]
 * ```
 *
 * `--reference` names a finished uninterrupted smoke study to compare with (one is run first
 * otherwise).
 *
 * @module
 */

import { int, parseCli, runMain } from "../src/cli.ts";
import { Prng } from "../src/data/prng.ts";
import { scriptPath } from "./subprocess.ts";

const USAGE = `
Usage: deno run --allow-all tests/soak.ts [--kills N] [--seed N] [--jobs N] [--out DIR] [--reference DIR]
`;

/** Steps logged and runs evaluated so far in the study folder: the soak's clock. */
async function progress(out: string): Promise<number> {
  let n = 0;
  const entries = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory) continue;
    const log = await Deno.readTextFile(`${out}/${e.name}/log.jsonl`).catch(() => "");
    n += log.split("\n").filter((l) => l).length;
    n += await Deno.stat(`${out}/${e.name}/eval.json`).then(() => 10, () => 0);
  }
  return n;
}

/** Starts `reproduce` in a process group of its own, so that a kill reaches its children too. */
function reproduce(out: string, jobs: number): Deno.ChildProcess {
  const args = [Deno.execPath(), "run", "--allow-all", scriptPath("reproduce"), "--profile", "smoke", "--out", out];
  return new Deno.Command("setsid", {
    args: [...args, "--jobs", String(jobs)],
    // Its progress shows as it goes; a pipe read only at the end could fill and stall it.
    stdout: "null",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<number> {
  return (await child.status).code;
}

/** Every run folder's weights, by name. */
async function weights(out: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for await (const e of Deno.readDir(out)) {
    const summary = await Deno.readTextFile(`${out}/${e.name}/summary.json`).catch(() => null);
    if (e.isDirectory && summary) found[e.name] = JSON.parse(summary).weightsSha256;
  }
  return found;
}

/** Locks and temporary files anywhere under `dir`. */
async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) found.push(...await leftovers(path));
    else if (e.name === ".lock" || /\.tmp-\d+$/.test(e.name)) found.push(path);
  }
  return found;
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    kills: { type: "string", parse: int(1) },
    seed: { type: "string", parse: int(0) },
    jobs: { type: "string", parse: int(1) },
    out: { type: "string" },
    reference: { type: "string" },
  }).values;
  const kills = o.kills ?? 20, jobs = o.jobs ?? 2;
  const root = o.out ?? await Deno.makeTempDir({ prefix: "crl-tac-soak-" });
  const rng = Prng.fromSeed(o.seed ?? 1, "soak");
  let reference = o.reference;
  if (!reference) {
    reference = `${root}/reference`;
    console.error(`uninterrupted study into ${reference}`);
    const code = await finish(reproduce(reference, jobs));
    if (code !== 0) throw new Error(`the uninterrupted study failed (exit ${code})`);
  }
  const expected = await weights(reference);
  // A smoke study logs 20 runs × 32 steps and 20 evaluations (10 units each): kill points spread
  // over about twice that, so that later ones fall in evaluation and in the report.
  const total = 20 * 32 + 20 * 10;
  const out = `${root}/soak`;
  for (let k = 1; k <= kills; k++) {
    const start = await progress(out);
    const target = start + 1 + Math.floor(rng.nextFloat() * (2 * total / kills));
    const child = reproduce(out, jobs);
    let killed = false;
    for (;;) {
      const done = await Promise.race([child.status, new Promise((r) => setTimeout(() => r(null), 20))]);
      if (done) break;
      if (await progress(out) >= target) {
        await new Deno.Command("kill", { args: ["-9", "--", `-${child.pid}`] }).output();
        killed = true;
        break;
      }
    }
    const code = await finish(child);
    console.error(
      `kill ${k}/${kills}: ${killed ? `killed at ${await progress(out)} (target ${target})` : `ended, exit ${code}`}`,
    );
    if (!killed) {
      if (code === 0) break;
      throw new Error(`reproduce failed before kill ${k} (exit ${code})`);
    }
  }
  const last = await finish(reproduce(out, jobs));
  if (last !== 0) throw new Error(`the resumed study did not pass (exit ${last})`);
  const got = await weights(out);
  const differing = Object.keys(expected).filter((name) => got[name] !== expected[name]);
  if (differing.length > 0 || Object.keys(got).length !== Object.keys(expected).length) {
    throw new Error(`weights differ from the uninterrupted study: ${differing.join(", ") || "a run is missing"}`);
  }
  const left = await leftovers(out);
  if (left.length > 0) throw new Error(`left behind: ${left.join(", ")}`);
  console.error(`soak passed: ${Object.keys(got).length} runs with the uninterrupted weights, nothing left behind`);
});
