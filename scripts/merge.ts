/**
 * `deno task merge`: combines the output folders of study shards into one report.
 *
 * @module
 */

import { parseCli, runMain, UsageError } from "../src/cli.ts";
import { type ProfileName } from "../src/config.ts";
import type { RawResult } from "../src/eval/evaluate.ts";
import { finishStudy } from "../src/report/finish.ts";
import { parseRunName } from "../src/study/plan.ts";
import { readRaw, readRun, type RunRecord } from "../src/study/results.ts";

const USAGE = `
Usage: deno task merge --out DIR [--update-fixtures] SHARD_DIR...

Combines the folders written by \`deno task reproduce --shard i/n --out SHARD_DIR\` into DIR:
copies each run's results (eval.json, summary.json, log.jsonl, policy-snapshots.jsonl, figures/)
and the raw baselines (written by shard 1), then compares and reports as reproduce does (same
table, REPORT.md, results.json, exit code).

  --update-fixtures    rewrite fixtures/<profile>.json from the merged results, as reproduce does
`;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

await runMain(USAGE, async (args) => {
  const o = parseCli(args, { out: { type: "string", required: true }, "update-fixtures": { type: "boolean" } }, true);
  const shards = o.positionals;
  if (shards.length === 0) throw new UsageError("name at least one shard folder after --out DIR");
  const out = o.values.out;
  const records: RunRecord[] = [];
  const raws = new Map<string, RawResult>();
  const profiles = new Set<ProfileName>();
  for (const shard of shards) {
    if (!(await Deno.stat(shard).then((s) => s.isDirectory, () => false))) {
      throw new UsageError(`${shard}: no such shard folder`);
    }
    for await (const entry of Deno.readDir(shard)) {
      if (/^raw-(shifted|original)\.json$/.test(entry.name)) {
        const r = await readRaw(`${shard}/${entry.name}`);
        if (r) raws.set(r.data, r);
      }
      const spec = entry.isDirectory ? parseRunName(entry.name) : null;
      if (!spec) continue;
      const name = entry.name;
      const record = await readRun(`${shard}/${name}`, name, spec);
      if (!record.summary && !record.eval) continue;
      if (records.some((r) => r.name === name)) throw new Error(`Run ${name} appears in more than one shard`);
      if (record.summary) profiles.add(record.summary.config.profile);
      await Deno.mkdir(`${out}/${name}`, { recursive: true });
      for (const file of ["eval.json", "summary.json", "landscape.json", "log.jsonl", "policy-snapshots.jsonl"]) {
        await Deno.copyFile(`${shard}/${name}/${file}`, `${out}/${name}/${file}`).catch(() => {});
      }
      await copyTree(`${shard}/${name}/figures`, `${out}/${name}/figures`).catch(() => {});
      records.push(record);
    }
  }
  if (records.length === 0) throw new UsageError(`No runs found in ${shards.join(", ")}`);
  if (profiles.size !== 1) throw new Error(`The shards mix profiles: ${[...profiles].join(", ")}`);
  // Directory order differs between machines; the report lists runs in one order everywhere.
  records.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  for (const r of raws.values()) {
    await Deno.writeTextFile(`${out}/raw-${r.data}.json`, JSON.stringify(r, null, 2) + "\n");
  }
  const comparison = await finishStudy({
    profile: [...profiles][0]!,
    out,
    records,
    raws: [...raws.values()],
    wallMs: records.reduce((ms, r) => ms + (r.summary?.trainMs ?? 0) + (r.eval?.ms ?? 0), 0),
    command: `deno task merge ${args.join(" ")}`,
    updateFixtures: o.values["update-fixtures"] ?? false,
  });
  return comparison.failures.length === 0 ? 0 : 1;
});
